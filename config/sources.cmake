# The config layer's sources, in one list: its library and the fuzz targets (which compile the
# pure layers themselves, with coverage) both build from it, so a new kind or channel spec
# cannot be missing from one of them.
set(LOOKOUT_CONFIG_SOURCES)
foreach(src
    channels/alertmanager_spec.cc
    channels/email_spec.cc
    channels/gotify_spec.cc
    channels/matrix_spec.cc
    channels/ntfy_spec.cc
    channels/opsgenie_spec.cc
    channels/pagerduty_spec.cc
    channels/pushover_spec.cc
    channels/registry.cc
    channels/sms_spec.cc
    channels/telegram_spec.cc
    channels/webhook_spec.cc
    config.cc
    config_alerting.cc
    config_cluster.cc
    http_request.cc
    url_parts.cc
    kinds/cert_spec.cc
    kinds/dns_spec.cc
    kinds/domain_spec.cc
    kinds/grpc_spec.cc
    kinds/exec_spec.cc
    kinds/dnssec_spec.cc
    kinds/heartbeat_spec.cc
    kinds/http_spec.cc
    kinds/journey_spec.cc
    kinds/ping_spec.cc
    kinds/registry.cc
    kinds/tcp_spec.cc
    kinds/websocket_spec.cc
    monitor_keys.cc)
  list(APPEND LOOKOUT_CONFIG_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${src})
endforeach()

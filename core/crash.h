// What a crash leaves behind must hold no secret either. The process is made non-dumpable, so
// no core file holds the secrets in its memory (and other processes of its user cannot read
// its memory or environment), and an uncaught exception's message is printed with every
// secret of the configs the daemon runs masked, or not at all when none is known.
#pragma once

#include <memory>

#include "core/secret.h"

namespace lookout {

// At the start of every command.
void guard_crash_output();

// The secrets of a config the process runs with; kept for the rest of its life (a monitor
// kept across a reload still holds the config it started with).
void mask_in_crash_output(std::shared_ptr<const Redactor> redactor);

}  // namespace lookout

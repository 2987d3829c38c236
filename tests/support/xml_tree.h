// An XML document read by expat into a small tree, for tests that check what lookout writes as
// XML (the Atom feed, the pages): a parse error fails the test with expat's line and reason.
#pragma once

#include <expat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lookout::test {

struct XmlNode {
  std::string name;  // with its namespace, "http://www.w3.org/2005/Atom name"
  std::map<std::string, std::string> attributes;
  std::string text;  // the character data directly inside, concatenated
  std::vector<std::unique_ptr<XmlNode>> children;

  // The direct children called `local` (the part after the namespace).
  std::vector<const XmlNode*> all(const std::string& local) const {
    std::vector<const XmlNode*> out;
    for (const auto& c : children) {
      const auto space = c->name.rfind(' ');
      if ((space == std::string::npos ? c->name : c->name.substr(space + 1)) == local)
        out.push_back(c.get());
    }
    return out;
  }
  const XmlNode* first(const std::string& local) const {
    const auto found = all(local);
    return found.empty() ? nullptr : found.front();
  }
};

struct XmlParse {
  std::unique_ptr<XmlNode> root;
  std::string error;  // "line 3: mismatched tag" when not well-formed
};

inline XmlParse parse_xml(const std::string& text) {
  struct State {
    std::unique_ptr<XmlNode> root;
    std::vector<XmlNode*> open;
  } st;
  XML_Parser p = XML_ParserCreateNS("utf-8", ' ');
  XML_SetUserData(p, &st);
  XML_SetElementHandler(
      p,
      [](void* data, const XML_Char* name, const XML_Char** attrs) {
        auto& s = *static_cast<State*>(data);
        auto node = std::make_unique<XmlNode>();
        node->name = name;
        for (size_t i = 0; attrs[i] != nullptr; i += 2) node->attributes[attrs[i]] = attrs[i + 1];
        XmlNode* raw = node.get();
        if (s.open.empty()) {
          s.root = std::move(node);
        } else {
          s.open.back()->children.push_back(std::move(node));
        }
        s.open.push_back(raw);
      },
      [](void* data, const XML_Char*) { static_cast<State*>(data)->open.pop_back(); });
  XML_SetCharacterDataHandler(p, [](void* data, const XML_Char* s, int len) {
    auto& st = *static_cast<State*>(data);
    if (!st.open.empty()) st.open.back()->text.append(s, static_cast<size_t>(len));
  });
  XmlParse out;
  if (XML_Parse(p, text.data(), static_cast<int>(text.size()), 1) == XML_STATUS_ERROR) {
    out.error = "line " + std::to_string(XML_GetCurrentLineNumber(p)) + ": " +
                XML_ErrorString(XML_GetErrorCode(p));
  } else {
    out.root = std::move(st.root);
  }
  XML_ParserFree(p);
  return out;
}

}  // namespace lookout::test

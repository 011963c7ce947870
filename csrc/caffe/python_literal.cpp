#include "detail/python_literal.h"

#include <c10/util/Exception.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace fcnlab {
namespace caffe {
namespace detail {
namespace {

constexpr int kMaxDepth = 64;

class LiteralReader {
 public:
  LiteralReader(const std::string& text, const std::string& where)
      : text_(text), where_(where) {}

  PythonValue read_all() {
    PythonValue value = read_value(0);
    skip_space();
    if (position_ < text_.size()) {
      fail("unexpected text after the value");
    }
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    TORCH_CHECK(
        false,
        where_,
        ": param_str is not a Python literal: ",
        what,
        " at column ",
        position_ + 1,
        " of \"",
        text_,
        "\"");
  }

  void skip_space() {
    while (position_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
  }

  bool at(char c) {
    skip_space();
    return position_ < text_.size() && text_[position_] == c;
  }

  void expect(char c) {
    if (!at(c)) {
      fail(std::string("expected '") + c + "'");
    }
    ++position_;
  }

  PythonValue read_value(int depth) {
    if (depth > kMaxDepth) {
      fail("nesting deeper than " + std::to_string(kMaxDepth));
    }
    skip_space();
    if (position_ >= text_.size()) {
      fail("the text ends where a value should be");
    }
    const char c = text_[position_];
    if (c == '{') {
      return read_dict(depth);
    }
    if (c == '[') {
      return read_sequence(depth, ']', PythonValue::Kind::kList);
    }
    if (c == '(') {
      return read_sequence(depth, ')', PythonValue::Kind::kTuple);
    }
    if (c == '\'' || c == '"') {
      return read_string();
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' ||
        c == '.') {
      return read_number();
    }
    return read_name();
  }

  PythonValue read_dict(int depth) {
    PythonValue dict;
    dict.kind = PythonValue::Kind::kDict;
    expect('{');
    while (!at('}')) {
      const PythonValue key = read_value(depth + 1);
      if (key.kind == PythonValue::Kind::kList ||
          key.kind == PythonValue::Kind::kDict) {
        fail("a dict key must be a string, a number or a tuple");
      }
      dict.keys.push_back(
          key.kind == PythonValue::Kind::kString ? key.text : key.repr());
      expect(':');
      dict.items.push_back(read_value(depth + 1));
      if (!at('}')) {
        expect(',');
      }
    }
    ++position_;
    return dict;
  }

  // A parenthesized single value without a trailing comma is that value,
  // as in Python: (1) is 1, (1,) a tuple.
  PythonValue read_sequence(int depth, char close, PythonValue::Kind kind) {
    PythonValue sequence;
    sequence.kind = kind;
    ++position_;
    bool trailing_comma = false;
    while (!at(close)) {
      sequence.items.push_back(read_value(depth + 1));
      trailing_comma = false;
      if (!at(close)) {
        expect(',');
        trailing_comma = true;
      }
    }
    ++position_;
    if (kind == PythonValue::Kind::kTuple && sequence.items.size() == 1 &&
        !trailing_comma) {
      return sequence.items[0];
    }
    return sequence;
  }

  PythonValue read_string() {
    PythonValue value;
    value.kind = PythonValue::Kind::kString;
    // Adjacent literals concatenate ('a' 'b' is 'ab').
    while (at('\'') || at('"')) {
      const char quote = text_[position_++];
      while (true) {
        if (position_ >= text_.size() || text_[position_] == '\n') {
          fail("unterminated string");
        }
        const char c = text_[position_++];
        if (c == quote) {
          break;
        }
        if (c != '\\') {
          value.text += c;
          continue;
        }
        if (position_ >= text_.size()) {
          fail("unterminated string");
        }
        const char escaped = text_[position_++];
        switch (escaped) {
          case 'n':
            value.text += '\n';
            break;
          case 't':
            value.text += '\t';
            break;
          case '\\':
          case '\'':
          case '"':
            value.text += escaped;
            break;
          default: // Python keeps unknown escapes as written.
            value.text += '\\';
            value.text += escaped;
        }
      }
    }
    return value;
  }

  PythonValue read_number() {
    const char* start = text_.c_str() + position_;
    char* end = nullptr;
    const double number = std::strtod(start, &end);
    // strtod also reads hex, inf and nan; Python literals spell those
    // differently, so only decimal digits count.
    const std::string spelled(start, static_cast<size_t>(end - start));
    const bool decimal = end != start &&
        spelled.find_first_not_of("0123456789+-.eE") == std::string::npos;
    if (!decimal) {
      fail("expected a number");
    }
    position_ += spelled.size();
    PythonValue value;
    value.kind = PythonValue::Kind::kNumber;
    value.number = number;
    value.text = spelled;
    return value;
  }

  PythonValue read_name() {
    const size_t start = position_;
    while (position_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[position_])) ||
            text_[position_] == '_')) {
      ++position_;
    }
    const std::string name = text_.substr(start, position_ - start);
    PythonValue value;
    if (name == "None") {
      return value;
    }
    if (name == "True" || name == "False") {
      value.kind = PythonValue::Kind::kBool;
      value.flag = name == "True";
      return value;
    }
    position_ = start;
    fail(
        name.empty() ? "expected a value"
                     : "'" + name + "' is a name, not a literal");
  }

  const std::string& text_;
  const std::string& where_;
  size_t position_ = 0;
};

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

} // namespace

const PythonValue* PythonValue::find(const std::string& key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      return &items[i];
    }
  }
  return nullptr;
}

std::vector<double> PythonValue::numbers() const {
  if (kind == Kind::kNumber) {
    return {number};
  }
  if (kind != Kind::kList && kind != Kind::kTuple) {
    return {};
  }
  std::vector<double> values;
  for (const auto& item : items) {
    if (item.kind != Kind::kNumber) {
      return {};
    }
    values.push_back(item.number);
  }
  return values;
}

std::string PythonValue::repr() const {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return flag ? "True" : "False";
    case Kind::kNumber:
      return text;
    case Kind::kString:
      return quoted(text);
    case Kind::kList:
    case Kind::kTuple: {
      std::string out = kind == Kind::kList ? "[" : "(";
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + items[i].repr();
      }
      if (kind == Kind::kTuple && items.size() == 1) {
        out += ",";
      }
      return out + (kind == Kind::kList ? "]" : ")");
    }
    case Kind::kDict: {
      std::string out = "{";
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + quoted(keys[i]) + ": " + items[i].repr();
      }
      return out + "}";
    }
  }
  return "";
}

PythonValue parse_python_literal(
    const std::string& text,
    const std::string& where) {
  return LiteralReader(text, where).read_all();
}

} // namespace detail
} // namespace caffe
} // namespace fcnlab

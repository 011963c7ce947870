#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fcnlab {
namespace caffe {
namespace detail {

/// A value of the Python literal syntax FCN's data layers take as
/// `param_str` (their Python code calls eval() on it): None, True, False,
/// numbers, quoted strings, and lists, tuples and dicts of these.
struct PythonValue {
  enum class Kind { kNone, kBool, kNumber, kString, kList, kTuple, kDict };
  Kind kind = Kind::kNone;
  bool flag = false;
  double number = 0;
  /// A string's characters (escapes resolved).
  std::string text;
  /// A list's or tuple's items; a dict's values.
  std::vector<PythonValue> items;
  /// A dict's keys, in order, as written (strings unquoted, others as
  /// repr()); items[i] is the value of keys[i].
  std::vector<std::string> keys;

  /// The value of `key` in a dict, or nullptr.
  const PythonValue* find(const std::string& key) const;
  /// The numbers of a list or tuple of numbers, or of a single number;
  /// empty for anything else.
  std::vector<double> numbers() const;
  /// Python's spelling of the value ("(104.0, 116.7)", "'train'").
  std::string repr() const;
};

/// Parses `text` as one Python literal. Throws c10::Error starting with
/// `where` and naming the column for anything else (an expression, a name,
/// an unterminated string, nesting deeper than 64).
PythonValue parse_python_literal(
    const std::string& text,
    const std::string& where);

} // namespace detail
} // namespace caffe
} // namespace fcnlab

#include "../../../csrc/caffe/detail/python_literal.h"

#include "caffe_fixtures.h"

#include <gtest/gtest.h>

namespace fcnlab {
namespace caffe {
namespace detail {
namespace {

using Kind = PythonValue::Kind;

PythonValue parse(const std::string& text) {
  return parse_python_literal(text, "net.prototxt:3: layer data");
}

std::string message_of(const std::string& text) {
  return testing::error_message_of([&] { parse(text); });
}

TEST(PythonLiteralTest, ReadsFcnsParamStr) {
  const auto value = parse(
      "{'sbdd_dir': '../data/sbdd/dataset', 'seed': 1337, 'split': "
      "'train', 'mean': (104.00699, 116.66877, 122.67892)}");
  ASSERT_EQ(value.kind, Kind::kDict);
  EXPECT_EQ(
      value.keys,
      (std::vector<std::string>{"sbdd_dir", "seed", "split", "mean"}));
  EXPECT_EQ(value.find("sbdd_dir")->text, "../data/sbdd/dataset");
  EXPECT_EQ(value.find("seed")->number, 1337);
  EXPECT_EQ(value.find("mean")->kind, Kind::kTuple);
  EXPECT_EQ(
      value.find("mean")->numbers(),
      (std::vector<double>{104.00699, 116.66877, 122.67892}));
  EXPECT_EQ(value.find("missing"), nullptr);
}

TEST(PythonLiteralTest, ListsQuotesAndConstants) {
  // NYUD's tops list, double quotes, escapes, trailing commas, constants.
  const auto value = parse(
      "{\"tops\": ['color', 'hha', 'label',], 'q': 'it\\'s', 'path': "
      "'a\\\\b', 'on': True, 'off': False, 'none': None, 'neg': -1.5e-3}");
  const auto& tops = *value.find("tops");
  ASSERT_EQ(tops.kind, Kind::kList);
  ASSERT_EQ(tops.items.size(), 3u);
  EXPECT_EQ(tops.items[2].text, "label");
  EXPECT_EQ(value.find("q")->text, "it's");
  EXPECT_EQ(value.find("path")->text, "a\\b");
  EXPECT_TRUE(value.find("on")->flag);
  EXPECT_EQ(value.find("off")->kind, Kind::kBool);
  EXPECT_FALSE(value.find("off")->flag);
  EXPECT_EQ(value.find("none")->kind, Kind::kNone);
  EXPECT_DOUBLE_EQ(value.find("neg")->number, -1.5e-3);
  EXPECT_TRUE(tops.numbers().empty()); // not numbers
}

TEST(PythonLiteralTest, ParenthesesMakeATupleOnlyWithAComma) {
  EXPECT_EQ(parse("(7)").kind, Kind::kNumber);
  const auto single = parse("(7,)");
  EXPECT_EQ(single.kind, Kind::kTuple);
  EXPECT_EQ(single.items.size(), 1u);
  EXPECT_EQ(parse("()").kind, Kind::kTuple);
  EXPECT_EQ(parse("'a' \"b\"").text, "ab"); // adjacent strings join
}

TEST(PythonLiteralTest, ReprReadsBackToItself) {
  for (const std::string text :
       {"{'mean': (104.0, 116.5, 122.25), 'split': 'train'}",
        "[1, (2,), [], {}, None, True, 'it\\'s']",
        "{'seed': 1337, 'tops': ['data', 'sem', 'geo']}"}) {
    const std::string repr = parse(text).repr();
    EXPECT_EQ(parse(repr).repr(), repr) << text;
  }
  EXPECT_EQ(parse("(1,)").repr(), "(1,)");
  EXPECT_EQ(parse("{'a': 'b'}").repr(), "{'a': 'b'}");
}

TEST(PythonLiteralTest, AnythingElseIsANamedError) {
  const std::string where =
      "net.prototxt:3: layer data: param_str is not a "
      "Python literal: ";
  EXPECT_EQ(
      message_of("dict(seed=1)"),
      where +
          "'dict' is a name, not a literal at column 1 of "
          "\"dict(seed=1)\"");
  EXPECT_EQ(
      message_of("{'split': 'train}"),
      where + "unterminated string at column 18 of \"{'split': 'train}\"");
  EXPECT_EQ(
      message_of("{'seed': 1} x"),
      where +
          "unexpected text after the value at column 13 of "
          "\"{'seed': 1} x\"");
  EXPECT_EQ(
      message_of("{'seed' 1}"),
      where + "expected ':' at column 9 of \"{'seed' 1}\"");
  EXPECT_EQ(
      message_of("{'seed': 0x10}"),
      where + "expected a number at column 10 of \"{'seed': 0x10}\"");
  EXPECT_NE(
      message_of(std::string(100, '[')).find("nesting deeper than 64"),
      std::string::npos);
  EXPECT_NE(
      message_of("{['a']: 1}").find("a dict key must be"), std::string::npos);
  EXPECT_NE(
      message_of("").find("the text ends where a value should be"),
      std::string::npos);
}

} // namespace
} // namespace detail
} // namespace caffe
} // namespace fcnlab

#include <fcnlab/models/builtin_nets.h>
#include <fcnlab/models/summary.h>
#include <fcnlab/serve/network_drawing.h>

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace fcnlab {
namespace serve {
namespace {

TEST(NetworkDrawingTest, EveryLayerIsABoxWithItsShapeAndEveryCropItsOffset) {
  const auto spec = models::builtin_net("fcn8s");
  const auto summary = models::summarize(spec, 500, 500);
  const auto dot = network_dot(spec, 500, 500);
  for (const auto& layer : summary.layers) {
    EXPECT_NE(dot.find("\"layer:" + layer.name + "\""), std::string::npos)
        << layer.name;
  }
  // The score's shape: 21 classes at the input's size.
  EXPECT_NE(dot.find("21x500x500"), std::string::npos);
  ASSERT_FALSE(summary.crops.empty());
  for (const auto& crop : summary.crops) {
    EXPECT_NE(
        dot.find(
            "offset " + std::to_string(crop.offset_h) + ", " +
            std::to_string(crop.offset_w)),
        std::string::npos)
        << crop.layer;
  }
  // The skip connections: the pool4 score feeds the fuse.
  EXPECT_NE(dot.find("-> \"layer:fuse_pool4\""), std::string::npos);
}

TEST(NetworkDrawingTest, RendersSvgAndPngAndNamesAnUnknownFormat) {
  const auto dot = network_dot(models::builtin_net("fcn_alexnet"), 227, 227);
  const auto svg = render_graph(dot, "svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("score_fr"), std::string::npos);
  const auto png = render_graph(dot, "png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  try {
    render_graph(dot, "gif");
    FAIL() << "gif accepted";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find("'gif'"), std::string::npos);
  }
  EXPECT_THROW(render_graph("digraph {", "svg"), c10::Error);
}

} // namespace
} // namespace serve
} // namespace fcnlab

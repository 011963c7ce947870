#include <fcnlab/models/coord_map.h>
#include <fcnlab/models/crop.h>
#include <fcnlab/models/fcn_alexnet.h>

#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <algorithm>

namespace fcnlab {
namespace models {
namespace {

using CropTest = testing::SeededTest;

LayerGeometry conv(int64_t kernel, int64_t stride = 1, int64_t pad = 0) {
  return {"conv", LayerKind::kWindow, kernel, stride, pad};
}

// FCN-Alexnet's layers up to (and without) the crop.
std::vector<LayerGeometry> alexnet_geometry_until(const std::string& last) {
  std::vector<LayerGeometry> geometry;
  for (const auto& layer : fcn_alexnet_spec().layers) {
    geometry.push_back(layer_geometry(layer, /*axis=*/0));
    if (layer.name == last) {
      break;
    }
  }
  return geometry;
}

TEST_F(CropTest, SingleLayerMaps) {
  const CoordMap conv1 = coord_map(conv(11, 4, 100));
  EXPECT_DOUBLE_EQ(conv1.scale, 4);
  EXPECT_DOUBLE_EQ(conv1.offset, -95);
  const CoordMap pool = coord_map(conv(3, 2));
  EXPECT_DOUBLE_EQ(pool.scale, 2);
  EXPECT_DOUBLE_EQ(pool.offset, 1);
  const CoordMap up =
      coord_map(LayerGeometry{"up", LayerKind::kDeconvolution, 63, 32, 0});
  EXPECT_DOUBLE_EQ(up.scale, 1.0 / 32);
  EXPECT_DOUBLE_EQ(up.offset, -31.0 / 32);
}

TEST_F(CropTest, FcnAlexnetMapsAsDerivedByHand) {
  // DESIGN: conv1 x = 4u - 95, pool5 x = 32u - 67, fc6 x = 32u + 13,
  // upscore x = u - 18.
  struct Expected {
    const char* layer;
    double scale, offset;
  };
  for (const auto& e :
       {Expected{"conv1", 4, -95},
        Expected{"pool5", 32, -67},
        Expected{"fc6", 32, 13},
        Expected{"upscore", 1, -18}}) {
    const CoordMap map = coord_map(alexnet_geometry_until(e.layer));
    EXPECT_DOUBLE_EQ(map.scale, e.scale) << e.layer;
    EXPECT_DOUBLE_EQ(map.offset, e.offset) << e.layer;
  }
  EXPECT_EQ(crop_offset(alexnet_geometry_until("upscore")), 18);
  EXPECT_EQ(crop_offset(alexnet_geometry_until("score")), 18);
}

TEST_F(CropTest, Fcn32sVgg16GivesNineteen) {
  std::vector<LayerGeometry> vgg;
  const int convs_per_block[] = {2, 2, 3, 3, 3};
  bool first = true;
  for (const int convs : convs_per_block) {
    for (int i = 0; i < convs; ++i) {
      vgg.push_back(conv(3, 1, first ? 100 : 1));
      first = false;
    }
    vgg.push_back(conv(2, 2)); // pool
  }
  vgg.push_back(conv(7)); // fc6
  vgg.push_back(conv(1)); // fc7
  vgg.push_back(conv(1)); // score_fr
  vgg.push_back({"upscore", LayerKind::kDeconvolution, 64, 32, 0});
  EXPECT_EQ(crop_offset(vgg), 19);
}

TEST_F(CropTest, RejectsMapsThatCannotBeCropped) {
  EXPECT_NE(
      testing::error_message_of([] {
        crop_offset({conv(3, 2)});
      }).find("scale 2; a crop needs scale 1"),
      std::string::npos);
  EXPECT_NE(
      testing::error_message_of([] {
        crop_offset({conv(2)});
      }).find("a crop needs a whole, non-positive offset"),
      std::string::npos);
}

// Spatial size after the FCN-Alexnet layers, with pooling rounded up (Caffe)
// or down; written independently of the library's summary.
int64_t upscore_size(int64_t input, bool ceil_pooling) {
  int64_t size = input;
  auto conv_out = [&](int64_t k, int64_t s, int64_t p) {
    size = (size + 2 * p - k) / s + 1;
  };
  auto pool_out = [&](int64_t k, int64_t s) {
    const int64_t span = size - k;
    size = (ceil_pooling ? (span + s - 1) / s : span / s) + 1;
  };
  conv_out(11, 4, 100);
  pool_out(3, 2);
  conv_out(5, 1, 2);
  pool_out(3, 2);
  conv_out(3, 1, 1);
  conv_out(3, 1, 1);
  conv_out(3, 1, 1);
  pool_out(3, 2);
  conv_out(6, 1, 0);
  return (size - 1) * 32 + 63;
}

TEST_F(CropTest, CeilPoolingIsWhatMakesEverySizeCroppable) {
  int floor_failures = 0;
  for (int64_t size = 1; size < 1200; ++size) {
    ASSERT_GE(upscore_size(size, /*ceil_pooling=*/true), size + 18) << size;
    if (upscore_size(size, /*ceil_pooling=*/false) < size + 18) {
      ++floor_failures;
    }
  }
  EXPECT_EQ(floor_failures, 483);
}

} // namespace
} // namespace models
} // namespace fcnlab

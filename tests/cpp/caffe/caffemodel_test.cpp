#include <fcnlab/caffe/caffemodel.h>
#include <fcnlab/util/atomic_file.h>

#include "caffe.pb.h"
#include "caffe_fixtures.h"
#include "seeded_test.h"

#include <cstring>
#include <fstream>

namespace fcnlab {
namespace caffe {
namespace {

using CaffemodelTest = testing::SeededTest;

// A protobuf wire encoder written from the format description, independent
// of libprotobuf: it writes repeated floats unpacked (one tagged value each),
// as old Caffe files may.
class WireWriter {
 public:
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_ += static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    bytes_ += static_cast<char>(value);
  }
  void tag(int field, int wire_type) {
    varint((static_cast<uint64_t>(field) << 3) | wire_type);
  }
  void varint_field(int field, uint64_t value) {
    tag(field, 0);
    varint(value);
  }
  void float_field(int field, float value) {
    tag(field, 5);
    char raw[4];
    std::memcpy(raw, &value, 4);
    bytes_.append(raw, 4);
  }
  void bytes_field(int field, const std::string& value) {
    tag(field, 2);
    varint(value.size());
    bytes_ += value;
  }
  const std::string& bytes() const {
    return bytes_;
  }

 private:
  std::string bytes_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST_F(CaffemodelTest, V2RoundTrip) {
  Net net;
  net.name = "tiny";
  net.layers.push_back(
      {"conv1",
       "Convolution",
       {"data"},
       {"conv1"},
       {{{2, 1, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}}, {{2}, {0.5f, -0.5f}}}});
  net.layers.push_back({"relu1", "ReLU", {"conv1"}, {"conv1"}, {}});
  write_caffemodel(net, path("tiny.caffemodel"));

  const Net read = read_caffemodel(path("tiny.caffemodel"));
  EXPECT_EQ(read.name, "tiny");
  EXPECT_FALSE(read.legacy_layers);
  ASSERT_EQ(read.layers.size(), 2u);
  EXPECT_EQ(read.layers[0].name, "conv1");
  EXPECT_EQ(read.layers[0].type, "Convolution");
  EXPECT_EQ(read.layers[0].bottoms, std::vector<std::string>{"data"});
  ASSERT_EQ(read.layers[0].blobs.size(), 2u);
  EXPECT_EQ(read.layers[0].blobs[0].shape, (std::vector<int64_t>{2, 1, 2, 2}));
  EXPECT_EQ(read.layers[0].blobs[0].data, net.layers[0].blobs[0].data);
  EXPECT_EQ(read.layers[0].blobs[1].data, net.layers[0].blobs[1].data);
  EXPECT_EQ(read.layers[1].type, "ReLU");
  EXPECT_TRUE(read.layers[1].blobs.empty());
}

TEST_F(CaffemodelTest, WriterPacksFloatsAsCaffeDoes) {
  write_caffemodel(
      {"n", {{"ip", "InnerProduct", {}, {}, {{{3}, {1, 2, 3}}}}}},
      path("n.caffemodel"));
  ::caffe::NetParameter proto;
  std::ifstream in(path("n.caffemodel"), std::ios::binary);
  ASSERT_TRUE(proto.ParseFromIstream(&in));
  ASSERT_EQ(proto.layer_size(), 1);
  // Packed: the 3 floats follow one length-delimited tag 5 (0x2a), 12 bytes.
  const std::string blob = proto.layer(0).blobs(0).SerializeAsString();
  EXPECT_NE(blob.find(std::string("\x2a\x0c", 2)), std::string::npos);
}

TEST_F(CaffemodelTest, ReadsV1UnpackedLegacyDims) {
  // BlobProto: num=1, channels=1, height=2, width=3 (legacy 4-D), then six
  // unpacked data floats (field 5, wire type 5).
  WireWriter blob;
  blob.varint_field(1, 1);
  blob.varint_field(2, 1);
  blob.varint_field(3, 2);
  blob.varint_field(4, 3);
  for (int i = 0; i < 6; ++i) {
    blob.float_field(5, 0.5f * i);
  }
  // V1LayerParameter: bottom=2, top=3, name=4, type=5 (INNER_PRODUCT = 14),
  // blobs=6.
  WireWriter layer;
  layer.bytes_field(2, "data");
  layer.bytes_field(3, "fc");
  layer.bytes_field(4, "fc");
  layer.varint_field(5, 14);
  layer.bytes_field(6, blob.bytes());
  // NetParameter: name=1, layers=2.
  WireWriter net;
  net.bytes_field(1, "legacy");
  net.bytes_field(2, layer.bytes());
  write_bytes(path("v1.caffemodel"), net.bytes());

  const Net read = read_caffemodel(path("v1.caffemodel"));
  EXPECT_EQ(read.name, "legacy");
  EXPECT_TRUE(read.legacy_layers);
  ASSERT_EQ(read.layers.size(), 1u);
  EXPECT_EQ(read.layers[0].name, "fc");
  EXPECT_EQ(read.layers[0].type, "InnerProduct");
  EXPECT_EQ(read.layers[0].tops, std::vector<std::string>{"fc"});
  ASSERT_EQ(read.layers[0].blobs.size(), 1u);
  EXPECT_EQ(read.layers[0].blobs[0].shape, (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_EQ(
      read.layers[0].blobs[0].data,
      (std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f}));
}

TEST_F(CaffemodelTest, ReadsV1PackedThroughTheSchema) {
  ::caffe::NetParameter proto;
  auto* layer = proto.add_layers();
  layer->set_name("conv");
  layer->set_type(::caffe::V1LayerParameter::CONVOLUTION);
  auto* blob = layer->add_blobs();
  blob->set_num(2);
  blob->set_channels(1);
  blob->set_height(1);
  blob->set_width(2);
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    blob->add_data(v);
  }
  write_bytes(path("v1p.caffemodel"), proto.SerializeAsString());
  const Net read = read_caffemodel(path("v1p.caffemodel"));
  EXPECT_EQ(read.layers[0].type, "Convolution");
  EXPECT_EQ(read.layers[0].blobs[0].shape, (std::vector<int64_t>{2, 1, 1, 2}));
  EXPECT_EQ(read.layers[0].blobs[0].data, (std::vector<float>{1, 2, 3, 4}));
}

TEST_F(CaffemodelTest, ConvertsDoubleData) {
  ::caffe::NetParameter proto;
  auto* layer = proto.add_layer();
  layer->set_name("score");
  layer->set_type("Convolution");
  auto* blob = layer->add_blobs();
  blob->mutable_shape()->add_dim(3);
  for (double v : {0.25, -1.5, 1e-3}) {
    blob->add_double_data(v);
  }
  write_bytes(path("double.caffemodel"), proto.SerializeAsString());
  const Net read = read_caffemodel(path("double.caffemodel"));
  EXPECT_EQ(
      read.layers[0].blobs[0].data, (std::vector<float>{0.25f, -1.5f, 1e-3f}));
}

TEST_F(CaffemodelTest, MissingFile) {
  EXPECT_NE(
      testing::error_message_of([&] {
        read_caffemodel(path("nope.caffemodel"));
      }).find("caffemodel: cannot open " + path("nope.caffemodel")),
      std::string::npos);
}

TEST_F(CaffemodelTest, TextPrototxtIsNotACaffemodel) {
  write_bytes(
      path("deploy.prototxt"), "name: \"FCN\"\nlayer { name: \"x\" }\n");
  const auto message = testing::error_message_of(
      [&] { read_caffemodel(path("deploy.prototxt")); });
  EXPECT_NE(
      message.find(path("deploy.prototxt") + " is not a binary caffemodel"),
      std::string::npos)
      << message;
}

TEST_F(CaffemodelTest, TruncatedFileNamesTheByteOffset) {
  Net net{
      "n",
      {{"conv", "Convolution", {}, {}, {{{100}, std::vector<float>(100, 1)}}}}};
  write_caffemodel(net, path("full.caffemodel"));
  const std::string bytes = util::read_file(path("full.caffemodel"), "test");
  write_bytes(path("cut.caffemodel"), bytes.substr(0, bytes.size() - 40));
  const auto message = testing::error_message_of(
      [&] { read_caffemodel(path("cut.caffemodel")); });
  // Field 1 (name "n") takes bytes 0-2; the layer field starts at byte 3.
  EXPECT_NE(
      message.find(path("cut.caffemodel") + ": truncated field 100 at byte 3"),
      std::string::npos)
      << message;
}

TEST_F(CaffemodelTest, BlobWhoseCountDisagreesWithItsShape) {
  ::caffe::NetParameter proto;
  auto* layer = proto.add_layer();
  layer->set_name("conv1");
  auto* blob = layer->add_blobs();
  blob->mutable_shape()->add_dim(2);
  blob->mutable_shape()->add_dim(3);
  for (int i = 0; i < 5; ++i) {
    blob->add_data(1);
  }
  write_bytes(path("bad.caffemodel"), proto.SerializeAsString());
  EXPECT_NE(
      testing::error_message_of([&] {
        read_caffemodel(path("bad.caffemodel"));
      }).find("layer conv1 blob 0 holds 5 values but its shape 2x3 needs 6"),
      std::string::npos);
}

// A damaged file may declare any shape; nothing of that size is allocated.
TEST_F(CaffemodelTest, HugeOrNegativeBlobShapesAreRefused) {
  auto message_for = [&](const std::vector<int64_t>& dims) {
    ::caffe::NetParameter proto;
    auto* layer = proto.add_layer();
    layer->set_name("fc6");
    auto* blob = layer->add_blobs();
    for (const int64_t dim : dims) {
      blob->mutable_shape()->add_dim(dim);
    }
    for (int i = 0; i < 6; ++i) {
      blob->add_data(1);
    }
    write_bytes(path("shape.caffemodel"), proto.SerializeAsString());
    return testing::error_message_of(
        [&] { read_caffemodel(path("shape.caffemodel")); });
  };
  // 100000^3 = 1e15 values, 4 PB of floats.
  EXPECT_NE(
      message_for({100000, 100000, 100000})
          .find("blob 0 holds 6 values but its shape 100000x100000x100000 "
                "needs 1000000000000000"),
      std::string::npos);
  // 2^32 * 2^32 overflows 64 bits.
  EXPECT_NE(
      message_for({int64_t(1) << 32, int64_t(1) << 32})
          .find("needs more than 2^63"),
      std::string::npos);
  // -2 x -3 multiplies to the 6 values stored.
  EXPECT_NE(
      message_for({-2, -3}).find("shape -2x-3 has a negative dimension"),
      std::string::npos);
}

TEST_F(CaffemodelTest, EmptyNetwork) {
  ::caffe::NetParameter proto;
  proto.set_name("nothing");
  write_bytes(path("empty_net.caffemodel"), proto.SerializeAsString());
  EXPECT_NE(
      testing::error_message_of([&] {
        read_caffemodel(path("empty_net.caffemodel"));
      }).find("holds no layers"),
      std::string::npos);
  write_bytes(path("empty.caffemodel"), "");
  EXPECT_NE(
      testing::error_message_of([&] {
        read_caffemodel(path("empty.caffemodel"));
      }).find(path("empty.caffemodel") + " is empty"),
      std::string::npos);
}

TEST_F(CaffemodelTest, WriterRejectsInconsistentBlobs) {
  Net net{"n", {{"conv", "Convolution", {}, {}, {{{2, 2}, {1, 2, 3}}}}}};
  EXPECT_NE(
      testing::error_message_of([&] {
        write_caffemodel(net, path("x.caffemodel"));
      }).find("layer conv has a blob of shape 2x2 with 3 values"),
      std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path("x.caffemodel")));
}

} // namespace
} // namespace caffe
} // namespace fcnlab

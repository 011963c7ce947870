#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/data/image_io.h>
#include <fcnlab/infer/segment.h>
#include <fcnlab/io/model_file.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/serve/server.h>
#include <fcnlab/train/trainer.h>

#include "run_lines.h"
#include "seeded_test.h"
#include "voc_fixtures.h"

#include <opencv2/imgcodecs.hpp>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fcnlab {
namespace serve {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Reads an event stream until `enough` says so or the stream ends.
std::string read_events(
    int port,
    const std::string& path,
    const std::function<bool(const std::string&)>& enough,
    const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  std::string received;
  client.Get(path, headers, [&](const char* data, size_t length) {
    received.append(data, length);
    return !enough(received);
  });
  return received;
}

class ServerTest : public testing::SeededTest {
 protected:
  void SetUp() override {
    SeededTest::SetUp();
    run_ = path("runs/first");
    fs::create_directories(run_);
    torch::manual_seed(3);
    // Small, so that each test saves and loads it in no time.
    model_ = models::FcnNet(caffe::parse_prototxt(
        R"(
      name: "tiny"
      input: "data"
      layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
              convolution_param { num_output: 8 kernel_size: 3 pad: 1
                                  weight_filler { type: "gaussian" std: 0.1 } } }
      layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
      layer { name: "score" type: "Convolution" bottom: "conv1" top: "score"
              convolution_param { num_output: 4 kernel_size: 1
                                  weight_filler { type: "gaussian" std: 0.5 } } }
    )",
        "tiny.prototxt"));
    io::save_model(model_, run_ + "/model.pt", {"bg", "cat", "dog", "cow"});
    std::ofstream(run_ + "/train.prototxt")
        << caffe::net_prototxt(model_->spec());
    std::ofstream(run_ + "/run.json") << nlohmann::json{
        {"status", "running"},
        {"pid", int64_t(getpid())},
        {"network", "tiny"},
        {"class_names",
         {"bg", "cat", "dog", "cow"}}}.dump();
    append(
        testing::iteration_line(1, 2.0, 1000.0 + 1) +
        testing::iteration_line(2, 1.5, 1000.0 + 2));
  }

  void append(const std::string& text) {
    std::ofstream(run_ + "/metrics.jsonl", std::ios::app) << text;
  }

  Server& start(ServeOptions options = {}) {
    options.folders = {path("runs")};
    options.port = 0;
    options.poll_seconds = 0.05;
    server_ = std::make_unique<Server>(options);
    port_ = server_->start();
    return *server_;
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    return c;
  }

  std::string image_png(int64_t height, int64_t width) const {
    return data::encode_image(
        torch::randint(0, 256, {height, width, 3}, torch::kByte), "png");
  }

  // A folder with images/ and labels/: samples s0..s4 holding classes 1, 2,
  // 3, 1, 2 on background.
  std::vector<testing::WrittenSample> write_dataset() const {
    std::vector<testing::WrittenSample> samples;
    for (int i = 0; i < 5; ++i) {
      samples.push_back(testing::write_sample(
          path("runs/data/images"),
          path("runs/data/labels"),
          "s" + std::to_string(i),
          24,
          32,
          1 + i % 3));
    }
    return samples;
  }

  std::string run_;
  models::FcnNet model_{nullptr};
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(ServerTest, ListsRunsAndServesARunsDetail) {
  start();
  auto c = client();
  const auto list = c.Get("/api/runs");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  const auto body = nlohmann::json::parse(list->body);
  ASSERT_EQ(body["runs"].size(), 1u);
  const auto& row = body["runs"][0];
  EXPECT_EQ(row["id"], "runs~first");
  EXPECT_EQ(row["status"], "running");
  EXPECT_EQ(row["iteration"], 2);
  EXPECT_EQ(row["network"], "tiny");

  const auto detail = c.Get("/api/runs/runs~first");
  ASSERT_TRUE(detail);
  const auto run = nlohmann::json::parse(detail->body);
  EXPECT_EQ(run["iterations"]["loss"], nlohmann::json({2.0, 1.5}));
  EXPECT_EQ(run["models"], nlohmann::json({"model.pt"}));
  EXPECT_EQ(run["class_names"][3], "cow");
  EXPECT_EQ(c.Get("/api/runs/nothing")->status, 404);

  // Pages and embedded assets.
  for (const char* page :
       {"/", "/run/runs~first", "/compare", "/test/runs~first"}) {
    const auto response = c.Get(page);
    ASSERT_TRUE(response) << page;
    EXPECT_EQ(response->status, 200) << page;
    EXPECT_NE(response->body.find("/assets/app.js"), std::string::npos);
  }
  const auto script = c.Get("/assets/vendor/uPlot.iife.min.js");
  EXPECT_EQ(script->status, 200);
  EXPECT_GT(script->body.size(), 40000u);
  EXPECT_EQ(c.Get("/assets/missing.js")->status, 404);
}

TEST_F(ServerTest, ServesOnlyFilesOfARunsOwnListing) {
  start();
  auto c = client();
  const auto file = c.Get("/api/runs/runs~first/files/train.prototxt");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 200);
  std::ifstream in(run_ + "/train.prototxt");
  EXPECT_EQ(file->body, std::string(std::istreambuf_iterator<char>(in), {}));
  const auto model = c.Get("/api/runs/runs~first/files/model.pt");
  EXPECT_EQ(model->body.size(), fs::file_size(run_ + "/model.pt"));
  std::ofstream(path("secret.txt")) << "secret";
  for (const char* bad :
       {"/api/runs/runs~first/files/..%2F..%2Fsecret.txt",
        "/api/runs/runs~first/files/secret.txt",
        "/api/runs/runs~first/files/../../secret.txt"}) {
    const auto response = c.Get(bad);
    ASSERT_TRUE(response) << bad;
    EXPECT_NE(response->status, 200) << bad;
    EXPECT_EQ(response->body.find("secret\n"), std::string::npos);
  }
}

TEST_F(ServerTest, RefusesForeignHostsCrossSitePostsBigBodiesAndMultiRanges) {
  ServeOptions options;
  options.max_body_bytes = 64 << 10;
  start(options);
  auto c = client();
  const auto foreign =
      c.Get("/api/runs", {{"Host", "evil.example:" + std::to_string(port_)}});
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403);

  const httplib::MultipartFormDataItems image = {
      {"image", image_png(40, 40), "a.png", "image/png"}};
  const auto no_origin = c.Post("/api/runs/runs~first/segment", image);
  ASSERT_TRUE(no_origin);
  EXPECT_EQ(no_origin->status, 403);
  const auto cross_site = c.Post(
      "/api/runs/runs~first/segment",
      {{"Origin", "http://evil.example"}},
      image);
  EXPECT_EQ(cross_site->status, 403);

  const httplib::Headers same_origin = {
      {"Origin", "http://127.0.0.1:" + std::to_string(port_)}};
  const httplib::MultipartFormDataItems big = {
      {"image", std::string(100 << 10, 'x'), "big.png", "image/png"}};
  const auto too_big = c.Post("/api/runs/runs~first/segment", same_origin, big);
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);

  const auto ranges = c.Get(
      "/api/runs/runs~first/files/model.pt", {{"Range", "bytes=0-1,4-5"}});
  EXPECT_EQ(ranges->status, 416);
  const auto one_range =
      c.Get("/api/runs/runs~first/files/model.pt", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(one_range->body.size(), 10u);
}

TEST_F(ServerTest, SegmentsAnUploadLikeTheLibraryDoes) {
  start();
  auto c = client();
  const httplib::Headers same_origin = {
      {"Origin", "http://127.0.0.1:" + std::to_string(port_)}};
  const auto png = image_png(37, 53);
  const auto response = c.Post(
      "/api/runs/runs~first/segment?format=json",
      same_origin,
      httplib::MultipartFormDataItems{{"image", png, "x.png", "image/png"}});
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["width"], 53);
  EXPECT_EQ(body["height"], 37);

  // The same image through the library: the same classes and shares.
  const auto image = data::decode_image(png, "x.png");
  const auto expected =
      infer::segment(io::load_model(run_ + "/model.pt").model, image).classes;
  const auto counts = torch::bincount(expected.flatten().to(torch::kLong));
  double shares = 0;
  for (const auto& found : body["classes"]) {
    const int64_t index = found["index"];
    EXPECT_NEAR(
        found["share"].get<double>(),
        counts[index].item<double>() / double(expected.numel()),
        1e-12);
    EXPECT_EQ(
        found["name"],
        std::vector<std::string>({"bg", "cat", "dog", "cow"})[size_t(index)]);
    shares += found["share"].get<double>();
  }
  EXPECT_NEAR(shares, 1.0, 1e-9);

  // The plain answer is the overlay as a PNG of the image's size.
  const auto overlay = c.Post(
      "/api/runs/runs~first/segment",
      same_origin,
      httplib::MultipartFormDataItems{{"image", png, "x.png", "image/png"}});
  ASSERT_EQ(overlay->status, 200);
  const auto decoded = data::decode_image(overlay->body, "overlay");
  EXPECT_EQ(decoded.sizes(), image.sizes());
  EXPECT_TRUE(torch::equal(
      decoded, infer::overlay(image, expected, data::voc_palette(), 0.5)));

  const auto broken = c.Post(
      "/api/runs/runs~first/segment",
      same_origin,
      httplib::MultipartFormDataItems{
          {"image", "not an image", "cat.png", "image/png"}});
  EXPECT_EQ(broken->status, 400);
  EXPECT_NE(broken->body.find("cat.png"), std::string::npos) << broken->body;
  const auto missing = c.Post(
      "/api/runs/runs~first/segment",
      same_origin,
      httplib::MultipartFormDataItems{{"picture", png, "x.png", "image/png"}});
  EXPECT_EQ(missing->status, 400);
  const auto other_model = c.Post(
      "/api/runs/runs~first/segment",
      same_origin,
      httplib::MultipartFormDataItems{
          {"image", png, "x.png", "image/png"},
          {"model", "../model.pt", "", ""}});
  EXPECT_EQ(other_model->status, 404);
}

TEST_F(ServerTest, ExploresADatasetFolder) {
  const auto samples = write_dataset();
  start();
  auto c = client();
  const auto list = nlohmann::json::parse(c.Get("/api/datasets")->body);
  ASSERT_EQ(list["datasets"].size(), 1u);
  EXPECT_EQ(list["datasets"][0]["id"], "runs~data");

  const auto page = nlohmann::json::parse(
      c.Get("/api/datasets/runs~data?split=train&offset=1&limit=2")->body);
  EXPECT_EQ(page["total"], 5);
  EXPECT_EQ(page["count"], 5);
  ASSERT_EQ(page["items"].size(), 2u);
  for (const auto& item : page["items"]) {
    const int64_t index = item["index"];
    EXPECT_EQ(item["classes"], nlohmann::json({0, 1 + index % 3}));
  }
  // Class pixel shares: of the pixels that are not ignored.
  std::vector<double> pixels(21, 0);
  double counted = 0;
  for (const auto& sample : samples) {
    for (int64_t c = 0; c < 21; ++c) {
      pixels[size_t(c)] += (sample.label == c).sum().item<double>();
    }
    counted += (sample.label != 255).sum().item<double>();
  }
  for (size_t c = 0; c < 21; ++c) {
    EXPECT_NEAR(
        page["class_shares"][c].get<double>(), pixels[c] / counted, 1e-12);
  }

  const auto holding_2 = nlohmann::json::parse(
      c.Get("/api/datasets/runs~data?split=train&class=2")->body);
  EXPECT_EQ(holding_2["count"], 2);
  EXPECT_EQ(holding_2["items"][0]["index"], 1);
  EXPECT_EQ(holding_2["items"][1]["index"], 4);

  // The image as written, and its label in VOC's colors where it is not
  // background or ignored, transparent elsewhere.
  const auto image = c.Get("/api/datasets/runs~data/train/3/image.png");
  ASSERT_EQ(image->status, 200);
  EXPECT_TRUE(
      torch::equal(data::decode_image(image->body, "image"), samples[3].image));
  const auto label = c.Get("/api/datasets/runs~data/train/3/label.png");
  ASSERT_EQ(label->status, 200);
  const std::vector<uchar> bytes(label->body.begin(), label->body.end());
  const cv::Mat bgra = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(bgra.channels(), 4);
  const auto palette = data::voc_palette();
  const auto& expected = samples[3].label;
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const int64_t cls = expected[y][x].item<int64_t>();
      const auto pixel = bgra.at<cv::Vec4b>(y, x);
      const bool shown = cls != 0 && cls != 255;
      ASSERT_EQ(pixel[3], shown ? 255 : 0) << y << "," << x;
      if (shown) {
        ASSERT_EQ(pixel[2], palette[size_t(cls)].r);
        ASSERT_EQ(pixel[1], palette[size_t(cls)].g);
        ASSERT_EQ(pixel[0], palette[size_t(cls)].b);
      }
    }
  }
  EXPECT_EQ(c.Get("/api/datasets/runs~data/train/5/image.png")->status, 404);
  EXPECT_EQ(c.Get("/api/datasets/runs~data?split=val")->status, 404);
  EXPECT_EQ(c.Get("/api/datasets/nothing")->status, 404);
}

TEST_F(ServerTest, SegmentsWithTheRunsSnapshotsAndLinksItsDataset) {
  write_dataset();
  auto data = std::make_shared<data::VOCSegmentation>(
      path("runs/data/images"), path("runs/data/labels"), data::VocOptions());
  auto network = models::FcnNet(caffe::parse_prototxt(
      R"(
      name: "tiny21"
      input: "data"
      layer { name: "score" type: "Convolution" bottom: "data" top: "score"
              convolution_param { num_output: 21 kernel_size: 1
                                  weight_filler { type: "gaussian" std: 0.01 } } }
    )",
      "tiny21.prototxt"));
  train::Trainer trainer(
      network,
      data,
      nullptr,
      train::TrainerOptions()
          .epochs(2)
          .output_dir(path("runs/trained"))
          .dataset(path("runs/data"))
          .threads(1)
          .progress(false));
  trainer.train();
  start();
  auto c = client();
  const auto run = nlohmann::json::parse(c.Get("/api/runs/runs~trained")->body);
  EXPECT_EQ(run["status"], "finished");
  EXPECT_EQ(run["dataset_id"], "runs~data");
  // 5 updates an epoch: model.pt, then the snapshots, newest first.
  EXPECT_EQ(
      run["models"],
      nlohmann::json(
          {"model.pt", "snapshot_iter_10.pt", "snapshot_iter_5.pt"}));

  const httplib::Headers same_origin = {
      {"Origin", "http://127.0.0.1:" + std::to_string(port_)}};
  const auto png = image_png(29, 31);
  const auto segment_with = [&](const std::string& model) {
    const auto response = c.Post(
        "/api/runs/runs~trained/segment?format=json",
        same_origin,
        httplib::MultipartFormDataItems{
            {"image", png, "x.png", "image/png"}, {"model", model, "", ""}});
    EXPECT_EQ(response->status, 200) << response->body;
    return nlohmann::json::parse(response->body);
  };
  // The last snapshot holds model.pt's weights.
  const auto latest = segment_with("model.pt");
  const auto last_snapshot = segment_with("snapshot_iter_10.pt");
  EXPECT_EQ(latest["class_map"], last_snapshot["class_map"]);
  EXPECT_EQ(latest["classes"], last_snapshot["classes"]);
  EXPECT_EQ(last_snapshot["model"], "snapshot_iter_10.pt");
}

TEST_F(ServerTest, DrawsTheRunsNetwork) {
  start();
  const auto svg = client().Get("/api/runs/runs~first/network.svg");
  ASSERT_TRUE(svg);
  ASSERT_EQ(svg->status, 200);
  for (const auto& layer : model_->spec().layers) {
    EXPECT_NE(svg->body.find(">" + layer.name + "<"), std::string::npos)
        << layer.name;
  }
}

TEST_F(ServerTest, StreamsAppendedLinesAndResumesFromTheLastId) {
  start();
  const auto runs = nlohmann::json::parse(client().Get("/api/runs")->body);
  const int64_t seen = runs["last_event_id"];
  std::thread writer(
      [&] { append(testing::iteration_line(3, 0.75, 1000.0 + 3)); });
  const auto text = read_events(
      port_,
      "/api/events?last_id=" + std::to_string(seen),
      [](const std::string& s) { return s.find("0.75") != std::string::npos; });
  writer.join();
  // One event: its id, its type, its data, a blank line.
  const auto at = text.find("event: metrics\n");
  ASSERT_NE(at, std::string::npos) << text;
  const auto id_line = text.rfind("id: ", at);
  ASSERT_NE(id_line, std::string::npos);
  const int64_t id = std::stoll(text.substr(id_line + 4));
  EXPECT_GT(id, seen);
  const auto data = text.substr(at + 15, text.find("\n\n", at) - at - 15);
  ASSERT_EQ(data.rfind("data: ", 0), 0u) << data;
  const auto event = nlohmann::json::parse(data.substr(6));
  EXPECT_EQ(event["run"], "runs~first");
  EXPECT_EQ(event["line"]["loss"], 0.75);

  // A reconnect that saw the event before gets that one again ...
  const auto again = read_events(
      port_,
      "/api/events",
      [](const std::string& s) { return s.find("0.75") != std::string::npos; },
      {{"Last-Event-ID", std::to_string(id - 1)}});
  EXPECT_NE(again.find("id: " + std::to_string(id) + "\n"), std::string::npos);
  // ... and one that saw it gets only what came after.
  std::thread later(
      [&] { append(testing::iteration_line(4, 0.625, 1000.0 + 4)); });
  const auto after = read_events(
      port_,
      "/api/events",
      [](const std::string& s) { return s.find("0.625") != std::string::npos; },
      {{"Last-Event-ID", std::to_string(id)}});
  later.join();
  EXPECT_EQ(after.find("id: " + std::to_string(id) + "\n"), std::string::npos);
  EXPECT_NE(
      after.find("id: " + std::to_string(id + 1) + "\n"), std::string::npos);
}

TEST_F(ServerTest, FiftyOpenStreamsLeavePlainRequestsServedAndStopIsPrompt) {
  ServeOptions options;
  options.max_streams = 50;
  start(options);
  std::atomic<int> open{0};
  std::vector<std::thread> streams;
  for (int i = 0; i < 50; ++i) {
    streams.emplace_back([&] {
      // From id 0 every stream gets the first events at once.
      bool counted = false;
      read_events(port_, "/api/events?last_id=0", [&](const std::string&) {
        if (!counted) {
          counted = true;
          ++open;
        }
        return false; // keep reading until the server stops
      });
    });
  }
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (open < 50 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(open, 50);
  auto c = client();
  const auto plain = c.Get("/api/runs");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  const auto one_more = c.Get("/api/events");
  ASSERT_TRUE(one_more);
  EXPECT_EQ(one_more->status, 503);

  const auto start_stop = Clock::now();
  server_->stop();
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start_stop).count();
  for (auto& stream : streams) {
    stream.join();
  }
  EXPECT_LT(seconds, 2.0) << "stopping with 50 open streams";
  EXPECT_FALSE(server_->running());
}

TEST_F(ServerTest, StopsEveryTimeRightAfterARequest) {
  // As the Python test does it: start, one refused request, stop at once.
  for (int round = 0; round < 40; ++round) {
    start(ServeOptions());
    auto c = client();
    const auto refused = c.Get("/api/runs", {{"Host", "evil.example"}});
    ASSERT_TRUE(refused) << "round " << round;
    EXPECT_EQ(refused->status, 403);
    const auto start_stop = Clock::now();
    server_->stop();
    EXPECT_LT(
        std::chrono::duration<double>(Clock::now() - start_stop).count(), 2.0)
        << "round " << round;
    EXPECT_FALSE(server_->running());
    server_.reset();
  }
}

TEST_F(ServerTest, APortInUseIsNamed) {
  auto& first = start();
  ServeOptions options;
  options.folders = {path("runs")};
  options.port = first.port();
  Server second(options);
  try {
    second.start();
    FAIL() << "bound a port in use";
  } catch (const c10::Error& error) {
    EXPECT_NE(
        std::string(error.what()).find(std::to_string(first.port())),
        std::string::npos);
  }
}

} // namespace
} // namespace serve
} // namespace fcnlab

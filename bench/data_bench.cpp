// Times one epoch of fcnlab's Loader over a prepare-voc split (decode JPEG
// and paletted PNG, convert to tensors) and prints JSON:
//   data_bench SPLIT_DIR WORKERS
#include <fcnlab/data/loader.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SPLIT_DIR WORKERS\n", argv[0]);
    return 2;
  }
  auto dataset = std::make_shared<fcnlab::data::VOCSegmentation>(
      std::string(argv[1]) + "/images", std::string(argv[1]) + "/labels");
  fcnlab::data::Loader loader(
      dataset, fcnlab::data::LoaderOptions().workers(std::atoi(argv[2])));
  const auto start = std::chrono::steady_clock::now();
  loader.start_epoch(0);
  size_t images = 0;
  while (auto batch = loader.next()) {
    images += static_cast<size_t>(batch->images.size(0));
  }
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  std::printf(
      "{\"images\": %zu, \"seconds\": %.4f}\n", images, elapsed.count());
  return 0;
}

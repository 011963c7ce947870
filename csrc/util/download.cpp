#include <fcnlab/util/download.h>

#include <fcnlab/util/atomic_file.h>

#include <c10/util/Exception.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace fcnlab {
namespace util {
namespace {

size_t write_to_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(file));
}

struct CurlGlobal {
  CurlGlobal() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
  }
};

} // namespace

std::string sha1_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in.good(), "cannot open ", path, ": ", std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), EVP_MD_CTX_free);
  TORCH_CHECK(
      context && EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) == 1,
      "cannot start a SHA1 digest");
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(context.get(), buffer.data(), in.gcount());
  }
  TORCH_CHECK(!in.bad(), "cannot read ", path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

void download(
    const std::string& url,
    const std::string& destination,
    const std::string& expected_sha1) {
  static CurlGlobal curl_global;
  AtomicFile file(destination);
  std::unique_ptr<std::FILE, decltype(&std::fclose)> out(
      std::fopen(file.temp_path().c_str(), "wb"), std::fclose);
  TORCH_CHECK(out, "cannot write ", destination, ": ", std::strerror(errno));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(
      curl_easy_init(), curl_easy_cleanup);
  TORCH_CHECK(curl, "cannot start a download of ", url);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, out.get());
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  // Give up on a stalled transfer rather than hang: under 1 KiB/s for 60 s.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  const CURLcode code = curl_easy_perform(curl.get());
  TORCH_CHECK(
      code == CURLE_OK,
      "cannot download ",
      url,
      ": ",
      error[0] ? error : curl_easy_strerror(code),
      " (no network? download it elsewhere and pass the file instead)");
  TORCH_CHECK(
      std::fflush(out.get()) == 0,
      "cannot write ",
      destination,
      ": ",
      std::strerror(errno));
  out.reset();
  if (!expected_sha1.empty()) {
    const std::string actual = sha1_file(file.temp_path());
    TORCH_CHECK(
        actual == expected_sha1,
        "downloaded ",
        url,
        " has SHA1 ",
        actual,
        ", expected ",
        expected_sha1,
        " (corrupt or changed file; nothing was saved)");
  }
  file.commit();
}

std::string default_cache_dir() {
  std::filesystem::path dir;
  if (const char* cache = std::getenv("FCNLAB_CACHE"); cache && *cache) {
    dir = cache;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = std::filesystem::path(xdg) / "fcnlab";
  } else {
    const char* home = std::getenv("HOME");
    TORCH_CHECK(
        home && *home,
        "no cache directory: set FCNLAB_CACHE, XDG_CACHE_HOME or HOME");
    dir = std::filesystem::path(home) / ".cache" / "fcnlab";
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  TORCH_CHECK(
      !error,
      "cannot create cache directory ",
      dir.string(),
      ": ",
      error.message());
  return dir.string();
}

} // namespace util
} // namespace fcnlab

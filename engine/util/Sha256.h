#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace moelab {

// Streaming SHA-256 (FIPS 180-4), used to verify downloads and record data provenance.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t len);
  std::string hexDigest();  // finalises; call once

  static std::string ofFile(const std::string& path);  // throws DataError if unreadable
  static std::string ofString(const std::string& s);

 private:
  void compress(const uint8_t* block);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t bufLen_ = 0;
  uint64_t totalBytes_ = 0;
};

}  // namespace moelab

#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moelab {

// Text <-> token ids. Implementations are immutable after construction and safe to share.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocabSize() const = 0;
  // Id written into padded positions. Pads are always masked out of the loss explicitly, so this
  // id may coincide with a real token.
  virtual int64_t padId() const = 0;
  virtual std::string name() const = 0;
  // What a checkpoint needs to rebuild this tokenizer exactly, and provenance for the run record.
  virtual nlohmann::json describe() const = 0;
};

}  // namespace moelab

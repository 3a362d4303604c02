#include "data/DataFetcher.h"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "util/Errors.h"
#include "util/FileSync.h"
#include "util/Sha256.h"

namespace fs = std::filesystem;

namespace moelab {

const std::vector<FetchDataset>& knownDatasets() {
  static const std::string gh = "https://raw.githubusercontent.com/";
  static const std::string oai = "https://openaipublic.blob.core.windows.net/gpt-2/";
  static const std::vector<FetchDataset> all = {
      {"wikitext-2",
       "WikiText-2 (tokenized), from pytorch/examples word_language_model",
       {{gh + "pytorch/examples/main/word_language_model/data/wikitext-2/train.txt",
         "wikitext-2/wiki.train.tokens", "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"},
        {gh + "pytorch/examples/main/word_language_model/data/wikitext-2/valid.txt",
         "wikitext-2/wiki.valid.tokens", "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"},
        {gh + "pytorch/examples/main/word_language_model/data/wikitext-2/test.txt",
         "wikitext-2/wiki.test.tokens", "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"}}},
      {"gpt2-bpe",
       "GPT-2 byte-level BPE vocabulary (OpenAI gpt-2 124M encoder.json, vocab.bpe)",
       {{oai + "models/124M/encoder.json", "gpt2-bpe/encoder.json",
         "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"},
        {oai + "models/124M/vocab.bpe", "gpt2-bpe/vocab.bpe",
         "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"}}},
      {"tinyshakespeare",
       "Tiny Shakespeare (karpathy/char-rnn)",
       {{gh + "karpathy/char-rnn/master/data/tinyshakespeare/input.txt", "tinyshakespeare/input.txt",
         "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"}}},
      {"lambada",
       "LAMBADA test set, OpenAI GPT-2 version",
       {{oai + "data/lambada_test.jsonl", "lambada/lambada_test.jsonl",
         "4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226"}}},
  };
  return all;
}

const FetchDataset& findDataset(const std::string& name) {
  std::string names;
  for (const auto& d : knownDatasets()) {
    if (d.name == name) return d;
    names += (names.empty() ? "" : ", ") + d.name;
  }
  throw UserError("unknown data set '" + name + "' (known: " + names + ")");
}

DataFetcher::DataFetcher(std::string root, std::function<void(const FetchProgress&)> progress)
    : root_(std::move(root)), progress_(std::move(progress)) {
  static const bool curlReady = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curlReady) throw std::runtime_error("libcurl failed to initialise");
}

std::vector<FetchOutcome> DataFetcher::fetch(const FetchDataset& ds) {
  std::vector<FetchOutcome> out;
  for (const auto& f : ds.files) {
    if (cancel_ && cancel_->load()) throw FetchCancelled("download of " + ds.name + " cancelled");
    out.push_back(fetchFile(f));
  }
  return out;
}

namespace {
struct Transfer {
  std::ofstream* file;
  Sha256* sha;
  int64_t bytes = 0;
  FetchProgress progress;
  const std::function<void(const FetchProgress&)>* report;
  const std::atomic<bool>* cancel;
};

size_t onData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->file->write(data, std::streamsize(size * n));
  t->sha->update(data, size * n);
  t->bytes += int64_t(size * n);
  return t->file->good() ? size * n : 0;
}

int onProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  t->progress.bytes = now;
  t->progress.total = total;
  if (*t->report) (*t->report)(t->progress);
  return t->cancel && t->cancel->load() ? 1 : 0;  // non-zero aborts the transfer
}
}  // namespace

FetchOutcome DataFetcher::fetchFile(const FetchFile& f) {
  const fs::path dest = fs::path(root_) / f.relPath;
  if (fs::is_regular_file(dest) && Sha256::ofFile(dest.string()) == f.sha256)
    return {f.relPath, true, int64_t(fs::file_size(dest))};
  fs::create_directories(dest.parent_path());
  const std::string url = mirror_.empty() ? f.url : mirror_ + "/" + f.relPath;
  const fs::path part = dest.string() + ".part";
  std::string lastError;
  for (int attempt = 1; attempt <= maxAttempts_; ++attempt) {
    if (attempt > 1)
      std::this_thread::sleep_for(
          std::chrono::duration<double>(backoffSeconds_ * double(1 << (attempt - 2))));
    std::ofstream file(part, std::ios::binary | std::ios::trunc);
    if (!file) throw DataError("cannot write " + part.string());
    Sha256 sha;
    Transfer t{&file, &sha, 0, {f.relPath, 0, 0}, &progress_, cancel_};
    CURL* curl = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onData);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // abort a stalled transfer after 60 s
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    file.close();
    if (cancel_ && cancel_->load()) {
      fs::remove(part);
      throw FetchCancelled("download of " + f.relPath + " cancelled; nothing was saved");
    }
    if (rc != CURLE_OK) {
      lastError = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
      fs::remove(part);
      // Client errors (404...) and unknown hosts will not improve with a retry; dropped
      // connections and server errors (5xx) may.
      if ((rc == CURLE_HTTP_RETURNED_ERROR && status < 500) || rc == CURLE_COULDNT_RESOLVE_HOST) break;
      continue;
    }
    const std::string got = sha.hexDigest();
    if (got != f.sha256) {
      // A body cut short by a server that sent no Content-Length looks like a complete transfer:
      // only the checksum tells, so it is retried like a dropped connection.
      fs::remove(part);
      lastError = "checksum mismatch for " + f.relPath + ": expected SHA-256 " + f.sha256 + ", got " + got +
                  " (" + std::to_string(t.bytes) + " bytes)";
      continue;
    }
    syncToDisk(part.string(), false);
    fs::rename(part, dest);
    syncToDisk(dest.parent_path().string(), true);
    return {f.relPath, false, t.bytes};
  }
  throw DownloadError("download of " + f.relPath + " from " + url + " failed after " +
                      std::to_string(maxAttempts_) + " attempt(s): " + lastError +
                      ". Nothing was saved; retry, or use --mirror.");
}

}  // namespace moelab

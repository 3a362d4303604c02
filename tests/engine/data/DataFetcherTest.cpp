#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QtTest/QtTest>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "TestSuite.h"
#include "data/DataFetcher.h"
#include "util/Errors.h"
#include "util/Sha256.h"

using namespace moelab;
namespace fs = std::filesystem;

// A minimal HTTP/1.0 file server on 127.0.0.1 serving a folder. Per-path faults: "corrupt" flips
// a byte; "drop" closes the connection halfway through the body (dropsLeft times); "error" answers
// 503 (errorsLeft times); "short" sends half the body without a Content-Length (shortLeft times).
class LocalHttpServer {
 public:
  explicit LocalHttpServer(std::string root) : root_(std::move(root)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 8);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LocalHttpServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string corruptPath;
  std::string dropPath;
  std::atomic<int> dropsLeft{0};
  std::string errorPath, shortPath;
  std::atomic<int> errorsLeft{0}, shortLeft{0};
  std::atomic<int> requests{0};

 private:
  void serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++requests;
      char buf[4096];
      ssize_t n = recv(c, buf, sizeof buf - 1, 0);
      std::string req(buf, n > 0 ? size_t(n) : 0);
      std::string path = req.substr(4, req.find(' ', 4) - 4);
      std::ifstream f(root_ + path, std::ios::binary);
      if (!f) {
        std::string r = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        send(c, r.data(), r.size(), MSG_NOSIGNAL);
        close(c);
        continue;
      }
      if (path == "/" + errorPath && errorsLeft.fetch_sub(1) > 0) {
        std::string r = "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        send(c, r.data(), r.size(), MSG_NOSIGNAL);
        close(c);
        continue;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      std::string body = ss.str();
      if (path == "/" + corruptPath) body[body.size() / 2] ^= 0x20;
      bool drop = path == "/" + dropPath && dropsLeft.fetch_sub(1) > 0;
      bool cut = path == "/" + shortPath && shortLeft.fetch_sub(1) > 0;
      std::string head =
          cut ? "HTTP/1.0 200 OK\r\n\r\n"
              : "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      send(c, head.data(), head.size(), MSG_NOSIGNAL);
      size_t upto = drop || cut ? body.size() / 2 : body.size();
      send(c, body.data(), upto, MSG_NOSIGNAL);
      close(c);
    }
  }
  std::string root_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class DataFetcherTest : public QObject {
  Q_OBJECT
  static FetchDataset shakespeare() { return findDataset("tinyshakespeare"); }
  // Whether the download left `suffix` ("" = the final file, ".part" = the temporary) in `dir`.
  static bool leftBehind(const QTemporaryDir& dir, const std::string& suffix) {
    return fs::exists(dir.path().toStdString() + "/tinyshakespeare/input.txt" + suffix);
  }
 private slots:
  void downloadsVerifiesAndSkipsWhatIsPresent() {
    QTemporaryDir dir;
    LocalHttpServer server(test::dataDir().toStdString());
    std::vector<FetchProgress> seen;
    DataFetcher fetcher(dir.path().toStdString(), [&](const FetchProgress& p) { seen.push_back(p); });
    fetcher.setMirror(server.url());
    auto out = fetcher.fetch(shakespeare());
    QCOMPARE(out.size(), size_t(1));
    QVERIFY(!out[0].skipped);
    std::string dest = dir.path().toStdString() + "/tinyshakespeare/input.txt";
    QCOMPARE(QString::fromStdString(Sha256::ofFile(dest)),
             QString::fromStdString(shakespeare().files[0].sha256));
    QVERIFY(!seen.empty());
    QCOMPARE(seen.back().bytes, int64_t(1115394));
    int before = server.requests;
    auto again = fetcher.fetch(shakespeare());
    QVERIFY(again[0].skipped);
    QCOMPARE(int(server.requests), before);
  }
  void corruptedFileIsRejectedAndNotSaved() {
    QTemporaryDir dir;
    LocalHttpServer server(test::dataDir().toStdString());
    server.corruptPath = "tinyshakespeare/input.txt";
    DataFetcher fetcher(dir.path().toStdString());
    fetcher.setMirror(server.url());
    fetcher.setBackoffSeconds(0.01);
    try {
      fetcher.fetch(shakespeare());
      QFAIL("expected a checksum error");
    } catch (const DownloadError& e) {
      QVERIFY(QString(e.what()).contains("checksum mismatch for tinyshakespeare/input.txt"));
    }
    QVERIFY(!leftBehind(dir, ""));
    QVERIFY(!leftBehind(dir, ".part"));
  }
  void droppedConnectionIsRetried() {
    QTemporaryDir dir;
    LocalHttpServer server(test::dataDir().toStdString());
    server.dropPath = "tinyshakespeare/input.txt";
    server.dropsLeft = 1;
    DataFetcher fetcher(dir.path().toStdString());
    fetcher.setMirror(server.url());
    fetcher.setBackoffSeconds(0.01);
    auto out = fetcher.fetch(shakespeare());
    QCOMPARE(int(server.requests), 2);
    QVERIFY(leftBehind(dir, ""));
  }
  void serverErrorsAndBodiesCutShortAreRetried() {
    QTemporaryDir dir;
    LocalHttpServer server(test::dataDir().toStdString());
    server.errorPath = server.shortPath = "tinyshakespeare/input.txt";
    server.errorsLeft = 2;  // two 503s, then a body cut short without Content-Length, then the file
    server.shortLeft = 1;
    DataFetcher fetcher(dir.path().toStdString());
    fetcher.setMirror(server.url());
    fetcher.setBackoffSeconds(0.01);
    auto out = fetcher.fetch(shakespeare());
    QCOMPARE(int(server.requests), 4);
    QVERIFY(leftBehind(dir, ""));
    QVERIFY(!leftBehind(dir, ".part"));
  }
  void clientErrorsAreNotRetried() {
    QTemporaryDir dir;
    LocalHttpServer server(dir.path().toStdString() + "/nothing-here");
    DataFetcher fetcher(dir.path().toStdString());
    fetcher.setMirror(server.url());
    fetcher.setBackoffSeconds(0.01);
    QVERIFY_THROWS_EXCEPTION(DownloadError, fetcher.fetch(shakespeare()));  // a runtime failure (exit 1)
    QCOMPARE(int(server.requests), 1);
  }
  void persistentDropFailsCleanly() {
    QTemporaryDir dir;
    LocalHttpServer server(test::dataDir().toStdString());
    server.dropPath = "tinyshakespeare/input.txt";
    server.dropsLeft = 100;
    DataFetcher fetcher(dir.path().toStdString());
    fetcher.setMirror(server.url());
    fetcher.setMaxAttempts(2);
    fetcher.setBackoffSeconds(0.01);
    QVERIFY_THROWS_EXCEPTION(DownloadError, fetcher.fetch(shakespeare()));
    QVERIFY(!leftBehind(dir, ""));
    QVERIFY(!leftBehind(dir, ".part"));
  }
  void unknownNameListsKnownOnes() {
    try {
      findDataset("imagenet");
      QFAIL("expected UserError");
    } catch (const UserError& e) {
      QVERIFY(QString(e.what()).contains("wikitext-2"));
    }
  }
};
MOELAB_TEST_SUITE(DataFetcherTest)
#include "DataFetcherTest.moc"

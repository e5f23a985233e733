// HTTP/2 on a client connection whose TLS gostly terminated (ALPN picked h2): an nghttp2 server
// session over the decrypted stream.
//
// nghttp2 does the framing, HPACK, flow control and stream states; this file moves bytes
// between it and the socket and turns each complete stream into a record::Request for the one
// Handler, through an H2Stream (the Exchange of one stream). I/O: one read at a time, fed whole
// to nghttp2_session_mem_recv(); the streams it completes are handed to the handler only after
// it returns (a handler that answers at once must not re-enter nghttp2); then everything nghttp2
// has to send is gathered into one buffer and written with one async_write, so 32 answers to 32
// requests that arrived together leave in one TLS write. A reply that comes later (a LEARN
// forward) runs on the same worker thread and flushes at once; its stream may have been reset or
// the connection closed meanwhile, which the H2Stream knows (`closed_`).
//
// The handler answers in HTTP/1.1 terms (bytes, shared prepared bytes, or a record::Response);
// h2_response.cpp re-frames them. The prepared bytes of the MOCK fast path are re-framed once per
// buffer and worker, and cached keyed by the buffer (the cache holds it, so its address is not
// reused while cached).
//
// Limits: SETTINGS_MAX_CONCURRENT_STREAMS kMaxStreams; a stream's header list over kHeaderLimit
// or kMaxHeaderFields gets 431, a body over max_body 413 (then RST_STREAM NO_ERROR if the client
// is still sending); the connection closes after idle_timeout with no stream open, or
// body_timeout while a request is still arriving or a write is stuck (the worker's sweep).
#include "http/h2_response.hpp"
#include "http/internal.hpp"

#include "util/encoding.hpp"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>

namespace gostly::http::detail {

namespace {

constexpr std::uint32_t kMaxStreams = 100;
// Client uploads: a window of 1 MiB per stream instead of 64 KiB, so a POST body is not held up
// by a WINDOW_UPDATE round trip every 64 KiB.
constexpr std::int32_t kInitialWindow = 1 << 20;
constexpr std::size_t kReadChunk = 16 * 1024;   // one TLS record
constexpr std::size_t kWriteChunk = 64 * 1024;  // gathered per write
// The re-framed prepared replies one worker keeps: entries, and the bytes they hold.
constexpr std::size_t kPreparedCacheEntries = 4096;
constexpr std::size_t kPreparedCacheBytes = 64 << 20;

/// A reply re-framed for HTTP/2: the HTTP/1.1 bytes it came from (held: the body is a view
/// into them), the parsed head, and the header block nghttp2 sends (pointing into `response`).
struct Reframed {
  std::shared_ptr<const std::string> wire;
  H2Response response;
  std::vector<nghttp2_nv> nva;
};

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

std::shared_ptr<const Reframed> reframe(std::shared_ptr<const std::string> wire, bool head) {
  auto parsed = h2_response_from_http1(*wire, head);
  if (!parsed) {
    // Bytes that are not one complete response are a bug of the handler: say so, do not guess.
    spdlog::error("an HTTP/2 reply is not a complete HTTP/1.1 response ({} bytes)", wire->size());
    wire = std::make_shared<const std::string>(
        json_response(500, R"j({"error":"internal error: the reply is not a complete HTTP/1.1 response"})j"));
    parsed = h2_response_from_http1(*wire, head);
  }
  auto out = std::make_shared<Reframed>();
  out->wire = std::move(wire);
  out->response = std::move(*parsed);
  out->nva.reserve(out->response.headers.size() + 1);
  out->nva.push_back(make_nv(":status", out->response.status_text));
  for (const auto& [name, value] : out->response.headers) out->nva.push_back(make_nv(name, value));
  return out;
}

// Per worker thread (a worker is one thread): the re-framed form of each prepared buffer seen.
struct PreparedCache {
  std::unordered_map<const std::string*, std::shared_ptr<const Reframed>> entries;
  std::size_t bytes = 0;

  std::shared_ptr<const Reframed> get(const std::shared_ptr<const std::string>& prepared) {
    if (auto it = entries.find(prepared.get()); it != entries.end()) return it->second;
    if (entries.size() >= kPreparedCacheEntries || bytes + prepared->size() > kPreparedCacheBytes) {
      entries.clear(); // replies in flight keep their own reference
      bytes = 0;
    }
    auto reframed = reframe(prepared, false);
    bytes += prepared->size();
    entries.emplace(prepared.get(), reframed);
    return reframed;
  }
};
thread_local PreparedCache prepared_cache;

class H2Connection;

// One stream: the request as it arrives, then the Exchange the handler answers through.
class H2Stream final : public Exchange {
public:
  enum class State { receiving, ready, awaiting, replied };

  H2Stream(std::weak_ptr<H2Connection> connection, std::int32_t id, Worker& worker, const Shared& shared)
      : connection_(std::move(connection)), id_(id), worker_(worker), shared_(shared) {}

  void reply(std::string bytes) override;
  void reply(std::shared_ptr<const std::string> prepared) override;
  void reply(const record::Response& response, const record::Headers& extra) override {
    reply(serialize_response(response, extra, head_ ? BodyMode::head : BodyMode::send, Close::no));
  }
  void drop() override;
  bool head() const noexcept override { return head_; }
  bool closing() const noexcept override { return false; }
  bool named_host() const noexcept override { return named_host_; }
  Worker& worker() noexcept override { return worker_; }
  const Shared& shared() const noexcept override { return shared_; }

  // Streaming: the head at once; the body's pieces are copied into `pending_` and pulled by the
  // data provider as the client's flow-control window allows (NGHTTP2_ERR_DEFERRED while none
  // is pending), so a client that reads slowly slows the upstream read, as over HTTP/1.1.
  bool streams() const noexcept override { return true; }
  void stream_head(const record::Response& response, bool length_known, std::string_view piece, Written written) override;
  void stream_piece(std::string_view piece, Written written) override;
  void stream_end(bool complete) override;
  /// Runs the pending `written` callback (later, on this worker: never inside nghttp2).
  void settle_written(bool ok) {
    if (!written_) return;
    asio::post(worker_.ioc, [written = std::exchange(written_, nullptr), ok] { written(ok); });
  }

  // Weak: the connection's pending read or write keeps it alive while its session lives, and a
  // strong reference here would make a cycle with the connection's stream map.
  std::weak_ptr<H2Connection> connection_;
  std::int32_t id_;
  Worker& worker_;
  const Shared& shared_;
  State state_ = State::receiving;
  bool closed_ = false;        // nghttp2 closed the stream (done, reset) or the connection went
  bool queued_ = false;        // in the connection's ready list
  bool remote_done_ = false;   // the client sent END_STREAM
  bool reset_after_reply_ = false;
  bool head_ = false;
  bool named_host_ = false;
  Refusal refusal_;            // 413 / 431 decided while receiving
  std::size_t header_bytes_ = 0;
  std::string method_, path_, authority_;
  record::Request request_;
  std::shared_ptr<const Reframed> answer_; // held until the stream closes
  std::string_view body_left_;             // what the data provider still has to send
  std::string pending_;                    // streamed body bytes not yet pulled by nghttp2
  std::size_t pending_sent_ = 0;
  bool stream_eof_ = false;                // the streamed body is complete
  Written written_;
};

class H2Connection final : public Expiring, public std::enable_shared_from_this<H2Connection> {
public:
  H2Connection(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin)
      : stream_(std::move(stream)), worker_(worker), shared_(shared), origin_(std::move(origin)) {}
  ~H2Connection() override {
    worker_.connections.erase(static_cast<Expiring*>(this));
    if (session_) nghttp2_session_del(session_);
  }

  void start() {
    worker_.connections.insert(static_cast<Expiring*>(this));
    if (nghttp2_session_server_new(&session_, callbacks(), this) != 0) {
      session_ = nullptr;
      return close_socket();
    }
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kInitialWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kHeaderLimit},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    // The connection window too, not only each stream's.
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kInitialWindow);
    read();
    flush();
  }

  void expire_if_due(Clock::time_point now) override {
    if (now < deadline_ || !session_) return;
    deadline_ = Clock::time_point::max();
    spdlog::debug("HTTP/2 connection for {} timed out", origin_.authority);
    beast::error_code ignored;
    socket_of(*stream_).cancel(ignored);
  }

  /// Sends `answer` on `stream` (called by H2Stream::reply on this worker's thread).
  void submit(H2Stream& stream, std::shared_ptr<const Reframed> answer) {
    if (!session_ || stream.closed_) return;
    uncount(stream);
    stream.state_ = H2Stream::State::replied;
    stream.answer_ = std::move(answer);
    const auto& reframed = *stream.answer_;
    stream.body_left_ = stream.head_ ? std::string_view{} : reframed.response.body(*reframed.wire);
    nghttp2_data_provider provider{};
    provider.source.ptr = &stream;
    provider.read_callback = &H2Connection::read_body;
    int rv = nghttp2_submit_response(session_, stream.id_, reframed.nva.data(), reframed.nva.size(),
                                     stream.body_left_.empty() ? nullptr : &provider);
    if (rv != 0) spdlog::debug("HTTP/2 stream {}: cannot submit the response: {}", stream.id_, nghttp2_strerror(rv));
    if (!dispatching_) flush();
  }

  /// Answers `stream` with RST_STREAM instead of a response (H2Stream::drop).
  void reset(H2Stream& stream) {
    if (!session_ || stream.closed_) return;
    uncount(stream);
    stream.state_ = H2Stream::State::replied;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id_, NGHTTP2_INTERNAL_ERROR);
    if (!dispatching_) flush();
  }

  /// Starts a streamed answer on `stream`: the head, then a body the data provider defers.
  void submit_streamed(H2Stream& stream, std::shared_ptr<const Reframed> head) {
    if (!session_ || stream.closed_) return stream.settle_written(false);
    uncount(stream);
    stream.state_ = H2Stream::State::replied;
    stream.answer_ = std::move(head);
    nghttp2_data_provider provider{};
    provider.source.ptr = &stream;
    provider.read_callback = &H2Connection::read_streamed_body;
    const auto& nva = stream.answer_->nva;
    if (int rv = nghttp2_submit_response(session_, stream.id_, nva.data(), nva.size(), stream.head_ ? nullptr : &provider);
        rv != 0) {
      spdlog::debug("HTTP/2 stream {}: cannot submit the response: {}", stream.id_, nghttp2_strerror(rv));
      return stream.settle_written(false);
    }
    if (!dispatching_) flush();
  }

  /// More of a streamed body is pending on `stream`, or it ended (`complete` false: cut it).
  void resume_streamed(H2Stream& stream, bool complete = true) {
    if (!session_ || stream.closed_) return stream.settle_written(false);
    if (!complete) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id_, NGHTTP2_INTERNAL_ERROR);
    else nghttp2_session_resume_data(session_, stream.id_);
    if (!dispatching_) flush();
  }

private:
  static const nghttp2_session_callbacks* callbacks() {
    static nghttp2_session_callbacks* made = [] {
      nghttp2_session_callbacks* cb = nullptr;
      nghttp2_session_callbacks_new(&cb);
      nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &H2Connection::on_begin_headers);
      nghttp2_session_callbacks_set_on_header_callback(cb, &H2Connection::on_header);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &H2Connection::on_data_chunk);
      nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &H2Connection::on_frame_recv);
      nghttp2_session_callbacks_set_on_frame_send_callback(cb, &H2Connection::on_frame_send);
      nghttp2_session_callbacks_set_on_stream_close_callback(cb, &H2Connection::on_stream_close);
      return cb;
    }();
    return made;
  }

  static H2Connection& self(void* user_data) { return *static_cast<H2Connection*>(user_data); }
  static H2Stream* stream_of(nghttp2_session* session, std::int32_t id) {
    return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto& c = self(user_data);
    auto stream = std::make_shared<H2Stream>(c.weak_from_this(), frame->hd.stream_id, c.worker_, c.shared_);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream.get());
    c.streams_.emplace(frame->hd.stream_id, std::move(stream));
    ++c.receiving_;
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const std::uint8_t* name_data,
                       std::size_t name_len, const std::uint8_t* value_data, std::size_t value_len, std::uint8_t,
                       void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0; // trailers
    H2Stream* s = stream_of(session, frame->hd.stream_id);
    if (!s || s->refusal_.status) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_len);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_len);
    // RFC 7541 §4.1's size of a field: what SETTINGS_MAX_HEADER_LIST_SIZE announced.
    s->header_bytes_ += name_len + value_len + 32;
    if (s->header_bytes_ > kHeaderLimit || s->request_.headers.size() >= kMaxHeaderFields) {
      s->refusal_ = {431, "request header fields too large (over " + std::to_string(kHeaderLimit) + " bytes or " +
                              std::to_string(kMaxHeaderFields) + " fields)"};
      s->request_.headers.clear();
      return 0;
    }
    if (name.starts_with(':')) {
      if (name == ":method") s->method_.assign(value);
      else if (name == ":path") s->path_.assign(value);
      else if (name == ":authority") s->authority_.assign(value);
      return 0; // :scheme is the connection's; pseudo-headers are not recorded as headers
    }
    if (name == "content-length") {
      std::uint64_t length = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      auto& max_body = self(user_data).shared_.options.max_body;
      if (ec == std::errc{} && end == value.data() + value.size() && length > max_body)
        s->refusal_ = {413, "request body over the limit of " + std::to_string(max_body) + " bytes (--max-body)"};
    }
    s->request_.headers.emplace_back(name, value);
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                           std::size_t len, void* user_data) {
    H2Stream* s = stream_of(session, id);
    if (!s || s->state_ != H2Stream::State::receiving) return 0; // answered already: dropped
    auto& c = self(user_data);
    if (s->refusal_.status) return 0;
    // The bodies of all the streams still arriving count together, so a connection holds no
    // more than one HTTP/1.1 request could (not kMaxStreams times --max-body).
    if (c.arriving_bytes_ + len > c.shared_.options.max_body) {
      bool alone = c.arriving_bytes_ == s->request_.body.size();
      s->refusal_ = {413, std::string(alone ? "request body" : "request bodies arriving together on this connection") +
                              " over the limit of " + std::to_string(c.shared_.options.max_body) + " bytes (--max-body)"};
      c.queue(*s);
      return 0;
    }
    s->request_.body.append(reinterpret_cast<const char*>(data), len);
    c.arriving_bytes_ += len;
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    H2Stream* s = stream_of(session, frame->hd.stream_id);
    if (!s) return 0;
    auto& c = self(user_data);
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->remote_done_ = true;
    // A refusal is answered as soon as the head is complete, the request when all of it is in.
    if (s->refusal_.status || s->remote_done_) c.queue(*s);
    return 0;
  }

  static int on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    H2Stream* s = stream_of(session, frame->hd.stream_id);
    // Answered before the client finished sending (413): tell it to stop (RFC 9113 §8.1).
    if (s && s->reset_after_reply_ && !s->remote_done_)
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user_data) {
    auto& c = self(user_data);
    auto it = c.streams_.find(id);
    if (it == c.streams_.end()) return 0;
    c.forget(*it->second);
    c.streams_.erase(it); // a reply still to come finds closed_ set
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length, std::uint32_t* flags,
                           nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2Stream*>(source->ptr);
    std::size_t n = std::min(length, s->body_left_.size());
    std::memcpy(buf, s->body_left_.data(), n);
    s->body_left_.remove_prefix(n);
    if (s->body_left_.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static ssize_t read_streamed_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                                    std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* s = static_cast<H2Stream*>(source->ptr);
    std::size_t left = s->pending_.size() - s->pending_sent_;
    if (left == 0) {
      if (s->stream_eof_) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
      }
      s->settle_written(true); // all of it is out: ask for the next piece
      return NGHTTP2_ERR_DEFERRED;
    }
    std::size_t n = std::min(length, left);
    std::memcpy(buf, s->pending_.data() + s->pending_sent_, n);
    s->pending_sent_ += n;
    if (s->pending_sent_ == s->pending_.size()) {
      s->pending_.clear();
      s->pending_sent_ = 0;
      if (s->stream_eof_) *flags |= NGHTTP2_DATA_FLAG_EOF;
      else s->settle_written(true);
    }
    return static_cast<ssize_t>(n);
  }

  void queue(H2Stream& s) {
    if (s.queued_ || s.state_ != H2Stream::State::receiving) return;
    uncount(s);
    s.queued_ = true;
    s.state_ = H2Stream::State::ready;
    if (s.refusal_.status) s.request_.body.clear();
    ready_.push_back(s.id_);
  }

  // Takes `s` out of the counts of the state it leaves (they set the connection's deadline).
  void uncount(H2Stream& s) {
    if (s.state_ == H2Stream::State::receiving) {
      --receiving_;
      arriving_bytes_ -= s.request_.body.size();
    } else if (s.state_ == H2Stream::State::awaiting) {
      --awaiting_;
    }
  }

  // A stream that nghttp2 closed, or every stream when the connection goes.
  void forget(H2Stream& s) {
    uncount(s);
    s.state_ = H2Stream::State::replied;
    s.closed_ = true;
    s.settle_written(false); // a streamed answer's client is gone
  }

  void read() {
    stream_->async_read_some(asio::buffer(in_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (!session_) return;
    if (ec) return teardown();
    ssize_t rv = nghttp2_session_mem_recv(session_, in_.data(), n);
    if (rv < 0) {
      // Not HTTP/2 (a bad preface) or a connection error: GOAWAY, sent by flush(), then close.
      spdlog::debug("HTTP/2 connection for {}: {}", origin_.authority, nghttp2_strerror(static_cast<int>(rv)));
      if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC) nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      else return teardown();
    } else {
      dispatch_ready();
    }
    flush();
    if (session_ && nghttp2_session_want_read(session_)) read();
  }

  void dispatch_ready() {
    if (ready_.empty()) return;
    dispatching_ = true;
    std::vector<std::int32_t> ready;
    ready.swap(ready_);
    for (std::int32_t id : ready) {
      auto it = streams_.find(id);
      if (it == streams_.end()) continue; // reset meanwhile
      std::shared_ptr<H2Stream> s = it->second;
      if (s->refusal_.status) {
        s->reset_after_reply_ = !s->remote_done_;
        s->reply(json_response(s->refusal_.status, nlohmann::json{{"error", s->refusal_.reason}}.dump()));
        continue;
      }
      s->state_ = H2Stream::State::awaiting;
      ++awaiting_;
      handle(*s);
    }
    if (session_) ready_.swap(ready); // keep the capacity
    ready_.clear();
    dispatching_ = false;
  }

  void handle(H2Stream& s) {
    auto& request = s.request_;
    request.method = std::move(s.method_);
    request.http_version = "2";
    request.scheme = origin_.scheme;
    request.extra = nlohmann::json::object();
    s.head_ = request.method == "HEAD";
    s.named_host_ = origin_.named_host;
    merge_cookies(request.headers);
    if (request.method == "CONNECT") {
      request.host = s.authority_;
      request.uri = std::move(s.authority_);
      s.named_host_ = true;
    } else {
      const std::string* host_header = record::find_header(request.headers, "host");
      // Inside a tunnel :authority names the CONNECT target as the client sees it, as Host does
      // over HTTP/1.1.
      request.host = !s.authority_.empty() ? s.authority_ : host_header ? *host_header : origin_.authority;
      request.uri = std::move(s.path_);
    }
    std::shared_ptr<H2Stream> keep = streams_.at(s.id_);
    try {
      shared_.handler(request, Responder(keep));
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", request.method, request.uri, e.what());
      keep->reply(json_response(500, nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump()));
    }
  }

  // HTTP/2 splits Cookie into one field per cookie; HTTP/1.1 upstreams expect one field
  // (RFC 9113 §8.2.3), and a recording should not depend on the client's protocol.
  static void merge_cookies(record::Headers& headers) {
    record::Header* first = nullptr;
    bool merged = false;
    for (auto& header : headers) {
      if (header.first != "cookie") continue;
      if (!first) {
        first = &header;
        continue;
      }
      first->second += "; ";
      first->second += header.second;
      header.first.clear();
      merged = true;
    }
    if (merged) std::erase_if(headers, [](const record::Header& h) { return h.first.empty(); });
  }

  void flush() {
    if (!session_ || writing_) return;
    out_.clear();
    for (;;) {
      const std::uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return teardown();
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      if (out_.size() >= kWriteChunk) break;
    }
    if (out_.empty()) {
      if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) return teardown();
      return update_deadline();
    }
    writing_ = true;
    update_deadline();
    asio::async_write(*stream_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->teardown();
      self->flush();
    });
  }

  void update_deadline() {
    if (writing_ || receiving_ > 0) deadline_ = Clock::now() + shared_.options.body_timeout;
    else if (awaiting_ > 0) deadline_ = Clock::time_point::max(); // the handler has its own limits
    else deadline_ = Clock::now() + shared_.options.idle_timeout;
  }

  void teardown() {
    if (!session_) return;
    auto keep = shared_from_this(); // the streams may hold the last reference to this
    for (auto& [id, s] : streams_) forget(*s);
    auto streams = std::move(streams_);
    streams_.clear();
    nghttp2_session_del(session_);
    session_ = nullptr;
    deadline_ = Clock::time_point::max();
    close_socket();
  }

  void close_socket() {
    beast::error_code ignored;
    socket_of(*stream_).shutdown(tcp::socket::shutdown_both, ignored);
    socket_of(*stream_).close(ignored);
  }

  std::unique_ptr<ClientTlsStream> stream_;
  Worker& worker_;
  const Shared& shared_;
  Origin origin_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, std::shared_ptr<H2Stream>> streams_;
  std::vector<std::int32_t> ready_;
  std::size_t receiving_ = 0;
  std::uint64_t arriving_bytes_ = 0; // request body bytes of the streams in `receiving`
  std::size_t awaiting_ = 0;
  bool dispatching_ = false;
  bool writing_ = false;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::array<std::uint8_t, kReadChunk> in_;
  std::string out_;
};

void H2Stream::reply(std::string bytes) {
  if (closed_ || state_ == State::replied) return;
  if (auto connection = connection_.lock())
    connection->submit(*this, reframe(std::make_shared<const std::string>(std::move(bytes)), head_));
}

void H2Stream::reply(std::shared_ptr<const std::string> prepared) {
  if (closed_ || state_ == State::replied || !prepared) return;
  if (auto connection = connection_.lock()) connection->submit(*this, prepared_cache.get(prepared));
}

void H2Stream::drop() {
  if (closed_ || state_ == State::replied) return;
  if (auto connection = connection_.lock()) connection->reset(*this);
}

void H2Stream::stream_head(const record::Response& response, bool length_known, std::string_view piece,
                           Written written) {
  auto connection = connection_.lock();
  if (closed_ || state_ == State::replied || !connection) return written(false);
  auto head = reframe(std::make_shared<const std::string>(serialize_response(response, {}, BodyMode::head)), true);
  if (!length_known) {
    // The upstream framed it by chunks or by closing: HTTP/2 frames it by END_STREAM.
    auto mutable_head = std::make_shared<Reframed>(*head);
    std::erase_if(mutable_head->response.headers, [](const record::Header& h) { return h.first == "content-length"; });
    mutable_head->nva.clear();
    mutable_head->nva.push_back(make_nv(":status", mutable_head->response.status_text));
    for (const auto& [name, value] : mutable_head->response.headers) mutable_head->nva.push_back(make_nv(name, value));
    head = std::move(mutable_head);
  }
  written_ = std::move(written);
  pending_.assign(piece);
  connection->submit_streamed(*this, std::move(head));
}

void H2Stream::stream_piece(std::string_view piece, Written written) {
  auto connection = connection_.lock();
  if (closed_ || !connection) return written(false);
  written_ = std::move(written);
  pending_.append(piece);
  connection->resume_streamed(*this);
}

void H2Stream::stream_end(bool complete) {
  auto connection = connection_.lock();
  if (closed_ || !connection) return;
  stream_eof_ = true;
  connection->resume_streamed(*this, complete);
}

} // namespace

void serve_h2(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin) {
  std::make_shared<H2Connection>(std::move(stream), worker, shared, std::move(origin))->start();
}

} // namespace gostly::http::detail

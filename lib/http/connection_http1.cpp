// HTTP/1.1 on a client connection, plain or inside TLS that gostly terminated.
//
// One connection, one request at a time. A connection reads the headers of a request (with the
// idle timeout), answers `Expect: 100-continue`, reads the body (with the body limit: a
// Content-Length over it fails before any body byte is read, a chunked body fails when it grows
// past it; both get 413 and the connection closes), converts the message to a record::Request
// and calls the handler. Pipelined requests wait in the read buffer until the reply to the
// current one is written, which bounds a pipeline by the buffer, not by a queue of replies.
// Replies are complete wire bytes written with one async_write: either a string the
// connection owns or shared, pre-serialized bytes from the mock library, which are not copied.
// The exception is a streamed upstream answer (stream_head/piece/end): its head, then each
// piece as the upstream call hands it over, one write each.
//
// CONNECT goes to the handler like any request; if it opens a tunnel the socket leaves this
// connection for terminate_tls() or relay_tunnel() once the 200 is written.
#include "http/internal.hpp"

#include "util/encoding.hpp"

#include <array>
#include <charconv>

#include <spdlog/spdlog.h>

namespace gostly::http::detail {

namespace {
// A connection's read buffer grows to kReadBufferLimit only for a big head; past this it is
// given back before the next request, so an idle connection keeps a few KiB at most.
constexpr std::size_t kIdleBufferKeep = 16 * 1024;
} // namespace

template <class Stream>
class Http1Connection final : public Exchange, public Expiring, public std::enable_shared_from_this<Http1Connection<Stream>> {
public:
  Http1Connection(std::unique_ptr<Stream> stream, Worker& worker, const Shared& shared, Origin origin)
      : stream_(std::move(stream)), worker_(worker), shared_(shared), origin_(std::move(origin)) {}
  ~Http1Connection() override { worker_.connections.erase(static_cast<Expiring*>(this)); }

  void start() {
    worker_.connections.insert(static_cast<Expiring*>(this));
    read_header();
  }

  /// Called by the sweep: closes the connection when its deadline has passed.
  void expire_if_due(Clock::time_point now) override {
    if (!stream_ || now < deadline_ || !socket().is_open()) return; // no stream: handed to a relay
    timed_out_ = true;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    socket().cancel(ignored);
  }

  void reply(std::string bytes) override {
    if (replied_) return;
    out_owned_ = std::move(bytes);
    write_reply(out_owned_);
  }
  void reply(std::shared_ptr<const std::string> prepared) override {
    if (replied_ || !prepared) return;
    out_shared_ = std::move(prepared);
    std::string_view bytes = *out_shared_;
    if (head_) bytes = bytes.substr(0, std::min(bytes.size(), bytes.find("\r\n\r\n") + 4));
    write_reply(bytes);
  }

  void reply(const record::Response& response, const record::Headers& extra) override {
    reply(serialize_response(response, extra, head_ ? BodyMode::head : BodyMode::send, close_ ? Close::yes : Close::no));
  }

  void drop() override {
    if (replied_) return;
    replied_ = true;
    close_ = true;
    close();
  }

  Worker& worker() noexcept override { return worker_; }
  const Shared& shared() const noexcept override { return shared_; }
  bool head() const noexcept override { return head_; }
  bool closing() const noexcept override { return close_; }
  bool named_host() const noexcept override { return named_host_; }

  void open_tunnel(bool intercept, TunnelDone done) override;
  void hand_over_tunnel(beast::error_code ec);
  void relay_upgrade(const Url& upstream, const record::Request& request, UpgradeHandlers handlers) override;
  void switch_protocols(const record::Response& answer, UpstreamStream upstream, std::string upstream_early,
                        std::string authority, UpgradeHandlers handlers);

  // Streaming: the head at once, then each piece as one write (one chunk when the upstream gave
  // no length; an HTTP/1.0 client, which cannot take chunked, gets the body ended by a close).
  bool streams() const noexcept override { return true; }
  void stream_head(const record::Response& response, bool length_known, std::string_view piece, Written written) override {
    if (replied_) return written(false);
    replied_ = true;
    chunked_ = !length_known && !http10_;
    if (!length_known && http10_) close_ = true;
    record::Headers extra;
    if (chunked_) extra.emplace_back("Transfer-Encoding", "chunked");
    out_owned_ = serialize_response(response, extra, BodyMode::head, close_ ? Close::yes : Close::no);
    write_piece(out_owned_, piece, std::move(written));
  }
  void stream_piece(std::string_view piece, Written written) override { write_piece({}, piece, std::move(written)); }
  void stream_end(bool complete) override {
    const bool chunked = std::exchange(chunked_, false);
    if (!complete || !socket().is_open()) {
      close_ = true;
      return close();
    }
    if (!chunked) return on_write({});
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    deadline_ = Clock::now() + shared_.options.body_timeout;
    asio::async_write(*stream_, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

private:
  void read_header() {
    parser_.emplace();
    configure(*parser_, shared_.options.max_body);
    if (buffer_.capacity() > kIdleBufferKeep) buffer_.shrink_to_fit();
    replied_ = false;
    deadline_ = Clock::now() + shared_.options.idle_timeout;
    bhttp::async_read_header(*stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail_read(ec);
    // Before any body byte is read: framing another parser could read differently (request
    // smuggling), too many fields, a length over the limit.
    if (auto refusal = check_request_head(*parser_, shared_.options.max_body); refusal.status) return refuse(refusal);
    auto& message = parser_->get();
    close_ = !message.keep_alive();
    http10_ = message.version() < 11;
    head_ = message.method() == bhttp::verb::head;
    if (parser_->is_done()) return dispatch();
    if (auto expect = message.find(bhttp::field::expect);
        expect != message.end() && util::iequals(sv(expect->value()), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(*stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    deadline_ = Clock::now() + shared_.options.body_timeout;
    bhttp::async_read(*stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail_read(ec);
      self->dispatch();
    });
  }

  void fail_read(beast::error_code ec) {
    close_ = true;
    if (timed_out_) ec = beast::error::timeout;
    if (ec == beast::error::timeout && parser_->got_some())
      return reply(json_response(408, R"({"error":"timed out reading the request"})", {}, Close::yes));
    if (auto refusal = refusal_for(ec); refusal.status) return refuse(refusal);
    close();
  }

  // An error answer, after which the connection closes: what follows in the stream cannot be
  // trusted to start a request.
  void refuse(const Refusal& refusal) {
    close_ = true;
    reply(json_response(refusal.status, nlohmann::json{{"error", refusal.reason}}.dump(), {}, Close::yes));
  }

  void dispatch() {
    deadline_ = Clock::time_point::max(); // the handler (and any upstream call) has its own limits
    auto message = parser_->release();
    request_.headers.clear();
    request_.extra = nlohmann::json::object();
    request_.method.assign(sv(message.method_string()));
    request_.http_version = message.version() == 10 ? "1.0" : "1.1";
    std::string_view target = sv(message.target());
    const std::string* host_header = nullptr;
    for (const auto& field : message) request_.headers.emplace_back(sv(field.name_string()), sv(field.value()));
    host_header = record::find_header(request_.headers, "host");
    named_host_ = origin_.named_host;
    if (message.method() == bhttp::verb::connect) {
      // The authority is the target (RFC 9110 9.3.6); the handler decides what the tunnel is.
      close_ = true;
      request_.scheme = "https";
      request_.host.assign(target);
      request_.uri.assign(target);
      named_host_ = true;
    } else if (auto absolute = split_absolute_form(target)) {
      named_host_ = true;
      request_.scheme = absolute->scheme;
      request_.host = absolute->authority;
      request_.uri = std::move(absolute->origin_form);
    } else {
      request_.scheme = origin_.scheme;
      // Inside a tunnel Host names the CONNECT target as the client sees it (no default port).
      request_.host = host_header ? *host_header : origin_.authority;
      request_.uri.assign(target);
    }
    request_.body = std::move(message.body());
    try {
      shared_.handler(request_, Responder(this->shared_from_this()));
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", request_.method, request_.uri, e.what());
      close_ = true;
      reply(json_response(500, nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump(), {}, Close::yes));
    }
  }

  void write_piece(std::string_view head, std::string_view piece, Written written) {
    std::array<asio::const_buffer, 4> buffers{asio::buffer(head.data(), head.size())};
    if (!piece.empty()) {
      if (chunked_) {
        chunk_line_.resize(20);
        auto end = std::to_chars(chunk_line_.data(), chunk_line_.data() + 16, piece.size(), 16).ptr;
        chunk_line_.resize(static_cast<std::size_t>(end - chunk_line_.data()));
        chunk_line_ += "\r\n";
        buffers[1] = asio::buffer(chunk_line_);
        buffers[3] = asio::buffer("\r\n", 2);
      }
      buffers[2] = asio::buffer(piece.data(), piece.size());
    }
    deadline_ = Clock::now() + shared_.options.body_timeout;
    asio::async_write(*stream_, buffers,
                      [self = this->shared_from_this(), written = std::move(written)](beast::error_code ec, std::size_t) {
                        self->deadline_ = Clock::time_point::max(); // waiting for the upstream is not the client's time
                        if (ec) self->close();
                        written(!ec);
                      });
  }

  void write_reply(std::string_view bytes) {
    replied_ = true;
    deadline_ = Clock::now() + shared_.options.body_timeout;
    asio::async_write(*stream_, asio::buffer(bytes.data(), bytes.size()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    out_shared_.reset();
    if (ec || close_) return close();
    read_header();
  }

  void close() {
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    socket().close(ignored);
  }

  Socket& socket() noexcept { return socket_of(*stream_); }

  std::unique_ptr<Stream> stream_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
  Worker& worker_;
  const Shared& shared_;
  beast::flat_buffer buffer_{kReadBufferLimit}; // a maximum: it starts empty and grows as needed
  std::optional<RequestParser> parser_;
  record::Request request_;
  std::string out_owned_;
  std::shared_ptr<const std::string> out_shared_;
  bool head_ = false;
  bool close_ = false;
  bool named_host_ = false;
  bool replied_ = false;
  bool http10_ = false;
  bool chunked_ = false; // the reply being streamed is chunked
  std::string chunk_line_;
  Origin origin_;
  bool tunnel_intercept_ = false;
  TunnelDone tunnel_done_;
};

template <class Stream>
void Http1Connection<Stream>::open_tunnel(bool intercept, TunnelDone done) {
  if constexpr (!std::is_same_v<Stream, Socket>) {
    (void)intercept;
    (void)done;
    close_ = true;
    reply(json_response(405, R"j({"error":"CONNECT inside a tunnel is not supported"})j", {}, Close::yes));
  } else {
    if (request_.method != "CONNECT") {
      reply(json_response(500, R"j({"error":"internal error: a tunnel opened for a request that is not CONNECT"})j", {},
                          Close::yes));
      return;
    }
    if (intercept && !shared_.tls_termination) {
      reply(json_response(501, R"j({"error":"CONNECT needs TLS interception: set ENABLE_TLS_INTERCEPTION=true"})j", {},
                          Close::yes));
      return;
    }
    replied_ = true;
    tunnel_intercept_ = intercept;
    tunnel_done_ = std::move(done);
    static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection Established\r\n\r\n";
    deadline_ = Clock::now() + shared_.options.body_timeout;
    asio::async_write(*stream_, asio::buffer(kEstablished.data(), kEstablished.size()),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->hand_over_tunnel(ec); });
  }
}

template <class Stream>
void Http1Connection<Stream>::hand_over_tunnel(beast::error_code ec) {
  if constexpr (std::is_same_v<Stream, Socket>) {
    deadline_ = Clock::time_point::max();
    if (ec) return close();
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    Socket socket = std::move(*stream_);
    std::string authority = request_.host;
    if (!tunnel_intercept_) return relay_tunnel(std::move(socket), std::move(early), worker_, shared_, authority, std::move(tunnel_done_));
    // A client waits for the 200 before its ClientHello; bytes before it are not TLS we can take.
    if (!early.empty()) {
      beast::error_code ignored;
      socket.close(ignored);
      return;
    }
    Origin origin{"https", authority, true};
    terminate_tls(std::move(socket), worker_, shared_, std::move(origin));
  } else {
    (void)ec;
  }
}

template <class Stream>
void Http1Connection<Stream>::relay_upgrade(const Url& upstream, const record::Request& request, UpgradeHandlers handlers) {
  auto kept = std::make_shared<UpgradeHandlers>(std::move(handlers));
  auto self = this->shared_from_this();
  start_upstream_upgrade(
      worker_, shared_, upstream, request,
      [self, kept, where = upstream.to_string()](UpstreamResult&& result) {
        if (kept->answered) kept->answered(result);
        if (result.failure != UpstreamFailure::none) return self->reply(upstream_failure_response(result, where));
        self->reply(result.response, {});
      },
      [self, kept, authority = upstream.authority()](UpstreamResult&& answer, UpstreamStream stream, std::string early) {
        if (kept->answered) kept->answered(answer);
        self->switch_protocols(answer.response, std::move(stream), std::move(early), authority, std::move(*kept));
      });
}

// The 101 goes out as the upstream sent it; once written, both streams leave this connection
// for the WebSocket relay, with whatever either side sent past its head.
template <class Stream>
void Http1Connection<Stream>::switch_protocols(const record::Response& answer, UpstreamStream upstream,
                                               std::string upstream_early, std::string authority, UpgradeHandlers handlers) {
  replied_ = true;
  out_owned_ = upgrade_head(answer);
  const bool deflate = negotiated_deflate(answer);
  deadline_ = Clock::now() + shared_.options.body_timeout;
  asio::async_write(*stream_, asio::buffer(out_owned_),
                    [self = this->shared_from_this(), upstream = std::move(upstream), early = std::move(upstream_early),
                     authority = std::move(authority), deflate, handlers = std::move(handlers)](beast::error_code ec, std::size_t) mutable {
                      self->deadline_ = Clock::time_point::max();
                      if (ec) {
                        beast::error_code ignored;
                        tcp_layer(upstream).socket().close(ignored);
                        return self->close();
                      }
                      self->worker_.connections.erase(static_cast<Expiring*>(self.get()));
                      std::string client_early(static_cast<const char*>(self->buffer_.data().data()), self->buffer_.size());
                      self->buffer_.consume(self->buffer_.size());
                      relay_websocket(std::move(self->stream_), std::move(client_early), std::move(upstream), std::move(early),
                                      self->worker_, self->shared_, std::move(authority), deflate, std::move(handlers));
                    });
}

void serve_http1(Socket socket, Worker& worker, const Shared& shared, Origin origin) {
  std::make_shared<Http1Connection<Socket>>(std::make_unique<Socket>(std::move(socket)), worker, shared, std::move(origin))
      ->start();
}

void serve_http1(std::unique_ptr<ClientTlsStream> stream, Worker& worker, const Shared& shared, Origin origin) {
  std::make_shared<Http1Connection<ClientTlsStream>>(std::move(stream), worker, shared, std::move(origin))->start();
}

} // namespace gostly::http::detail

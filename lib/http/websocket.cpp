// A WebSocket upgrade relayed both ways (RFC 6455), after the upstream answered 101.
//
// The bytes go through untouched, as in a tunnel: nothing is re-framed, re-masked or
// re-compressed, so extensions and subprotocols the two ends agreed on keep working. On the way,
// each direction's bytes also go through a small incremental frame-header parser that reports
// every complete frame (opcode, FIN, length, the payload unmasked and cut at
// GOSTLY_WS_MAX_FRAME_RECORD bytes) to the handler, which records it. When the two ends agreed
// on permessage-deflate (RFC 7692), compressed messages are inflated for the record only (one
// inflater per direction, kept across messages for context takeover): the relayed bytes stay
// compressed. Either side's end of
// stream is passed on as a half-close; the relay ends when both directions have ended, on an
// error, or after the idle timeout without a byte either way (the per-worker sweep).
#include "http/internal.hpp"

#include "util/limits.hpp"

#include <array>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <spdlog/spdlog.h>

namespace gostly::http::detail {

namespace {

// The raw socket under each stream a relay may hold, for cancel and half-close.
Socket& raw_socket(Socket& s) noexcept { return s; }
Socket& raw_socket(ClientTlsStream& s) noexcept { return s.next_layer(); }
Socket& raw_socket(TcpStream& s) noexcept { return s.socket(); }
Socket& raw_socket(TlsStream& s) noexcept { return s.next_layer().socket(); }

std::size_t max_frame_record() {
  static const std::size_t limit = util::limit_from_env("GOSTLY_WS_MAX_FRAME_RECORD", 64 * 1024);
  return limit;
}

/// Frame boundaries in one direction's byte stream, fed as bytes arrive (frames split across
/// reads, several frames in one read). Lengths are taken as announced: the bytes are relayed
/// whatever they say, so a malformed stream only makes the records wrong, never the relay.
class FrameParser {
public:
  FrameParser(bool from_client, std::size_t cap, bool deflate) : cap_(cap), deflate_(deflate) {
    frame_.from_client = from_client;
    // The window is the largest allowed: inflating with a bigger window than the sender's is safe.
    if (deflate_) inflater_.reset(15);
  }

  template <class Emit>
  void feed(const unsigned char* p, std::size_t n, Emit&& emit) {
    while (n > 0) {
      if (in_head_) {
        head_[have_++] = *p++;
        --n;
        if (have_ == 2) need_ = 2 + ((head_[1] & 0x7f) == 126 ? 2 : (head_[1] & 0x7f) == 127 ? 8 : 0) + ((head_[1] & 0x80) ? 4 : 0);
        if (have_ >= 2 && have_ == need_) start_payload(emit);
        continue;
      }
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
      if (frame_.compressed && !inflate_failed_) {
        scratch_.resize(take);
        for (std::size_t i = 0; i < take; ++i)
          scratch_[i] = static_cast<unsigned char>(masked_ ? p[i] ^ mask_[(offset_ + i) & 3] : p[i]);
        inflate(scratch_.data(), take);
      } else {
        std::size_t keep = frame_.payload.size() < cap_ ? std::min(take, cap_ - frame_.payload.size()) : 0;
        for (std::size_t i = 0; i < keep; ++i)
          frame_.payload.push_back(static_cast<char>(masked_ ? p[i] ^ mask_[(offset_ + i) & 3] : p[i]));
        if (keep < take) dropped_ = true;
      }
      offset_ += take;
      remaining_ -= take;
      p += take;
      n -= take;
      if (remaining_ == 0) finish(emit);
    }
  }

private:
  template <class Emit>
  void start_payload(Emit& emit) {
    frame_.fin = (head_[0] & 0x80) != 0;
    frame_.opcode = head_[0] & 0x0f;
    // RSV1 on the first frame of a data message marks it compressed; its continuations follow.
    if (frame_.opcode == 1 || frame_.opcode == 2) message_compressed_ = deflate_ && (head_[0] & 0x40) != 0;
    frame_.compressed = frame_.opcode < 8 && message_compressed_;
    std::uint64_t length = head_[1] & 0x7f;
    std::size_t at = 2;
    if (length >= 126) {
      std::size_t bytes = length == 126 ? 2 : 8;
      length = 0;
      for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | head_[at++];
    }
    masked_ = (head_[1] & 0x80) != 0;
    if (masked_) std::copy(head_.begin() + at, head_.begin() + at + 4, mask_.begin());
    frame_.length = remaining_ = length;
    offset_ = 0;
    dropped_ = false;
    in_head_ = false;
    if (remaining_ == 0) finish(emit);
  }

  // Inflates `n` bytes of a compressed message, keeping what fits under the cap. Everything is
  // inflated even past the cap, so the window stays right for the messages that follow.
  void inflate(const unsigned char* in, std::size_t n) {
    beast::zlib::z_params zs;
    zs.next_in = in;
    zs.avail_in = n;
    for (;;) {
      zs.next_out = out_.data();
      zs.avail_out = out_.size();
      beast::error_code ec;
      inflater_.write(zs, beast::zlib::Flush::sync, ec);
      std::size_t produced = out_.size() - zs.avail_out;
      std::size_t keep = frame_.payload.size() < cap_ ? std::min(produced, cap_ - frame_.payload.size()) : 0;
      frame_.payload.append(reinterpret_cast<const char*>(out_.data()), keep);
      if (keep < produced) dropped_ = true;
      if (ec && ec != beast::zlib::error::need_buffers && ec != beast::zlib::error::end_of_stream) {
        inflate_failed_ = true; // later compressed frames are recorded as they were sent
        return;
      }
      if (produced == 0 || (zs.avail_in == 0 && zs.avail_out > 0)) return;
    }
  }

  template <class Emit>
  void finish(Emit& emit) {
    if (frame_.compressed && frame_.fin && !inflate_failed_) {
      static constexpr unsigned char kEmptyBlock[4] = {0x00, 0x00, 0xff, 0xff}; // RFC 7692 7.2.2
      inflate(kEmptyBlock, sizeof kEmptyBlock);
    }
    if (frame_.opcode < 8 && frame_.fin) message_compressed_ = false;
    frame_.truncated = dropped_;
    emit(frame_);
    frame_.payload.clear();
    in_head_ = true;
    have_ = 0;
    need_ = 2;
  }

  std::size_t cap_;
  bool deflate_;
  WebSocketFrame frame_;
  std::array<unsigned char, 14> head_{};
  std::size_t have_ = 0, need_ = 2;
  bool in_head_ = true;
  bool masked_ = false;
  bool dropped_ = false;
  bool message_compressed_ = false;
  bool inflate_failed_ = false;
  std::array<unsigned char, 4> mask_{};
  std::uint64_t remaining_ = 0, offset_ = 0;
  beast::zlib::inflate_stream inflater_;
  std::vector<unsigned char> scratch_;
  std::array<unsigned char, 16 * 1024> out_{};
};

template <class Client, class Upstream>
class WebSocketRelay final : public Expiring, public std::enable_shared_from_this<WebSocketRelay<Client, Upstream>> {
public:
  WebSocketRelay(std::unique_ptr<Client> client, Upstream upstream, Worker& worker, const Shared& shared,
                 std::string authority, bool deflate, UpgradeHandlers handlers)
      : client_(std::move(client)), upstream_(std::move(upstream)), worker_(worker), shared_(shared),
        handlers_(std::move(handlers)), up_(true, max_frame_record(), deflate), down_(false, max_frame_record(), deflate) {
    stats_.authority = std::move(authority);
  }
  ~WebSocketRelay() override { worker_.connections.erase(static_cast<Expiring*>(this)); }

  void start(std::string client_early, std::string upstream_early) {
    worker_.connections.insert(static_cast<Expiring*>(this));
    started_ = Clock::now();
    touch();
    // Bytes either side sent past its head go on first, then each direction reads on.
    begin(*client_, upstream_, up_, stats_.bytes_up, std::move(client_early));
    begin(upstream_, *client_, down_, stats_.bytes_down, std::move(upstream_early));
  }

  void expire_if_due(Clock::time_point now) override {
    if (now < deadline_) return;
    deadline_ = Clock::time_point::max();
    if (error_.empty()) error_ = "idle for longer than the timeout";
    beast::error_code ignored;
    raw_socket(*client_).cancel(ignored);
    raw_socket(upstream_).cancel(ignored);
  }

private:
  struct Direction {
    Direction(bool from_client, std::size_t cap, bool deflate) : frames(from_client, cap, deflate) {}
    FrameParser frames;
    std::array<unsigned char, 16 * 1024> buffer{};
    std::string early;
    bool done = false;
  };

  template <class From, class To>
  void begin(From& from, To& to, Direction& d, std::uint64_t& counter, std::string early) {
    if (early.empty()) return pump(from, to, d, counter);
    d.early = std::move(early);
    counter += d.early.size();
    parse(d, reinterpret_cast<const unsigned char*>(d.early.data()), d.early.size());
    asio::async_write(to, asio::buffer(d.early), [self = this->shared_from_this(), &from, &to, &d, &counter](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("write: " + ec.message());
      self->pump(from, to, d, counter);
    });
  }

  template <class From, class To>
  void pump(From& from, To& to, Direction& d, std::uint64_t& counter) {
    from.async_read_some(asio::buffer(d.buffer), [self = this->shared_from_this(), &from, &to, &d, &counter](beast::error_code ec, std::size_t n) {
      self->touch();
      // A TLS peer that closes without close_notify has ended its stream all the same.
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        beast::error_code ignored;
        raw_socket(to).shutdown(tcp::socket::shutdown_send, ignored); // pass the half-close on
        d.done = true;
        return self->maybe_finish();
      }
      if (ec) return self->fail(ec == asio::error::operation_aborted ? std::string() : "read: " + ec.message());
      counter += n;
      self->parse(d, d.buffer.data(), n);
      asio::async_write(to, asio::buffer(d.buffer.data(), n), [self, &from, &to, &d, &counter](beast::error_code wec, std::size_t) {
        if (wec) return self->fail("write: " + wec.message());
        self->pump(from, to, d, counter);
      });
    });
  }

  void parse(Direction& d, const unsigned char* p, std::size_t n) {
    if (!handlers_.on_frame) return; // PASSTHROUGH: nothing to report
    d.frames.feed(p, n, [this](const WebSocketFrame& frame) { handlers_.on_frame(frame); });
  }

  void touch() { deadline_ = Clock::now() + shared_.options.idle_timeout; }

  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    up_.done = down_.done = true;
    maybe_finish();
  }

  void maybe_finish() {
    if (!up_.done || !down_.done || finished_) return;
    finished_ = true;
    deadline_ = Clock::time_point::max();
    beast::error_code ignored;
    raw_socket(*client_).close(ignored);
    raw_socket(upstream_).close(ignored);
    stats_.error = error_;
    stats_.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (!stats_.error.empty()) spdlog::debug("websocket relay to {}: {}", stats_.authority, stats_.error);
    if (handlers_.done) handlers_.done(stats_);
  }

  std::unique_ptr<Client> client_;
  Upstream upstream_;
  Worker& worker_;
  const Shared& shared_;
  UpgradeHandlers handlers_;
  Direction up_;   // client -> upstream
  Direction down_; // upstream -> client
  TunnelStats stats_;
  std::string error_;
  bool finished_ = false;
  Clock::time_point started_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

template <class Client>
void start_relay(std::unique_ptr<Client> client, std::string client_early, UpstreamStream upstream,
                 std::string upstream_early, Worker& worker, const Shared& shared, std::string authority,
                 bool deflate, UpgradeHandlers handlers) {
  std::visit(
      [&](auto& stream) {
        using Upstream = std::decay_t<decltype(stream)>;
        std::make_shared<WebSocketRelay<Client, Upstream>>(std::move(client), std::move(stream), worker, shared,
                                                           std::move(authority), deflate, std::move(handlers))
            ->start(std::move(client_early), std::move(upstream_early));
      },
      upstream);
}

} // namespace

std::string upgrade_head(const record::Response& answer) {
  // The fields come from Beast's parser of the upstream's head, which refuses CR, LF and NUL.
  std::string out = "HTTP/1.1 101 ";
  out += answer.reason.empty() ? std::string_view("Switching Protocols") : std::string_view(answer.reason);
  out += "\r\n";
  for (const auto& [name, value] : answer.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

bool negotiated_deflate(const record::Response& answer) {
  return header_lists(answer.headers, "sec-websocket-extensions", "permessage-deflate");
}

void relay_websocket(std::unique_ptr<Socket> client, std::string client_early, UpstreamStream upstream,
                     std::string upstream_early, Worker& worker, const Shared& shared, std::string authority,
                     bool deflate, UpgradeHandlers handlers) {
  start_relay(std::move(client), std::move(client_early), std::move(upstream), std::move(upstream_early), worker, shared,
              std::move(authority), deflate, std::move(handlers));
}

void relay_websocket(std::unique_ptr<ClientTlsStream> client, std::string client_early, UpstreamStream upstream,
                     std::string upstream_early, Worker& worker, const Shared& shared, std::string authority,
                     bool deflate, UpgradeHandlers handlers) {
  start_relay(std::move(client), std::move(client_early), std::move(upstream), std::move(upstream_early), worker, shared,
              std::move(authority), deflate, std::move(handlers));
}

} // namespace gostly::http::detail

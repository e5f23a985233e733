#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace gostly::store {

enum class Mode { learn, mock, passthrough, transitioning };

/// "LEARN", "MOCK", "PASSTHROUGH", "TRANSITIONING".
std::string_view to_string(Mode mode) noexcept;

/// Case-insensitive, surrounding whitespace ignored; nullopt for anything else.
std::optional<Mode> parse_mode(std::string_view text) noexcept;

/// The modes a user sets (mode.txt, --mode, POST /v1/mode, a service's mode, a bundle): parse_mode()
/// without TRANSITIONING, which is a state the server enters during a transition (POST
/// /v1/transition), never a mode to set.
std::optional<Mode> parse_settable_mode(std::string_view text) noexcept;

/// For messages: "LEARN, MOCK or PASSTHROUGH".
inline constexpr std::string_view kSettableModes = "LEARN, MOCK or PASSTHROUGH";

} // namespace gostly::store

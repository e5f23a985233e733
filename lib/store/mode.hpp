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

} // namespace gostly::store

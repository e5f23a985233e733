#pragma once
namespace gostly::cli {
/// The release version ("0.1.0") and `git describe` of the build, from a generated file.
extern const char* const kVersion;
extern const char* const kGitDescribe;
} // namespace gostly::cli

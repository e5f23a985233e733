# The fuzz targets and the corpus directories each one replays, shared by fuzz/CMakeLists.txt
# (which builds them) and tests/CMakeLists.txt (which registers `fuzz-regress: <target>` tests).
# GOSTLY_FUZZ_TARGETS: names; GOSTLY_FUZZ_CORPUS_<name>: seed directories besides
# fuzz/corpus/<name> and fuzz/regressions/<name>, which every target has.
set(_src ${CMAKE_CURRENT_LIST_DIR}/..)
set(GOSTLY_FUZZ_TARGETS jsonl har postman openapi_json openapi_yaml bundle)
set(GOSTLY_FUZZ_CORPUS_jsonl "")
set(GOSTLY_FUZZ_CORPUS_har ${_src}/tests/fixtures/har)
set(GOSTLY_FUZZ_CORPUS_postman ${_src}/tests/fixtures/postman)
set(GOSTLY_FUZZ_CORPUS_openapi_json ${_src}/tests/fixtures/openapi)
set(GOSTLY_FUZZ_CORPUS_openapi_yaml ${_src}/tests/fixtures/openapi)
set(GOSTLY_FUZZ_CORPUS_bundle "")
# The HTTP request head parser target needs lib/http/request_head.hpp (http::check_request_bytes);
# it is built and replayed as soon as that header is on the branch.
if(EXISTS ${_src}/lib/http/request_head.hpp)
  list(APPEND GOSTLY_FUZZ_TARGETS http_request_head)
  set(GOSTLY_FUZZ_CORPUS_http_request_head "")
endif()

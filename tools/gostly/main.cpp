// gostly VERB ARGS... runs gostly-VERB ARGS... (like git).
#include "cli/dispatch.hpp"

int main(int argc, char** argv) { return gostly::cli::dispatch_main(argc, argv); }

#include "core/error.h"

namespace lla {
namespace {
thread_local std::string last_error;
}

lla_status set_error(lla_status status, const std::string& message) {
    last_error = message;
    return status;
}

void clear_error() { last_error.clear(); }

const char* last_error_message() { return last_error.c_str(); }

}  // namespace lla

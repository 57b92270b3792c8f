// Thread-local error message behind lla_last_error().
#pragma once

#include <string>

#include "loglinear/loglinear.h"

namespace lla {

// Records `message` for lla_last_error() on this thread and returns `status`,
// so that callers can write `return set_error(LLA_ERROR_..., "...");`.
lla_status set_error(lla_status status, const std::string& message);
// Clears the message (called at the start of every public entry point).
void clear_error();
// The message of the last failure on this thread.
const char* last_error_message();

}  // namespace lla

// Returns from the enclosing function when an lla_status is not LLA_OK.
#define LLA_TRY(expr)                                            \
    do {                                                         \
        const lla_status lla_try_status = (expr);                \
        if (lla_try_status != LLA_OK) return lla_try_status;     \
    } while (0)

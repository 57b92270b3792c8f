// The scratch memory of one call: the caller's workspace when given (checked
// against the size needed), else an allocation owned for the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "core/checked_size.h"
#include "core/error.h"

namespace lla::cpu {

class WorkspaceMemory {
public:
    // On failure returns a status other than LLA_OK with the message set.
    lla_status acquire(void* workspace, size_t workspace_bytes, size_t needed) {
        if (needed == kSizeOverflow) return too_large();
        if (workspace != nullptr) {
            if (workspace_bytes < needed)
                return set_error(LLA_ERROR_OUT_OF_MEMORY, "workspace_bytes: expected at least " + std::to_string(needed) +
                                                              " bytes for this call, got " + std::to_string(workspace_bytes));
            base_ = static_cast<char*>(workspace);
        } else {
            owned_.reset(new (std::nothrow) char[needed]);
            if (!owned_)
                return set_error(LLA_ERROR_OUT_OF_MEMORY,
                                 "CPU backend: could not allocate " + std::to_string(needed) + " bytes of workspace");
            base_ = owned_.get();
        }
        return LLA_OK;
    }
    // A call whose workspace size does not fit size_t (kSizeOverflow).
    static lla_status too_large() {
        return set_error(LLA_ERROR_OUT_OF_MEMORY, "CPU backend: this call needs more workspace than size_t can count "
                                                  "(the shapes, broadcast or not, multiply to more than 2^64 bytes)");
    }
    // The base rounded up to 64 bytes (workspace sizes include that slack).
    char* aligned() const {
        uintptr_t address = reinterpret_cast<uintptr_t>(base_);
        return base_ + ((64 - address % 64) % 64);
    }

private:
    std::unique_ptr<char[]> owned_;
    char* base_ = nullptr;
};

}  // namespace lla::cpu

package dev.loglinear;

import static dev.loglinear.presets.global.loglinear.lla_memcpy;
import static dev.loglinear.presets.global.loglinear.lla_memcpy_async;

/** Byte copies between any two of host and CUDA memory, through the library's {@code lla_memcpy}. */
final class DeviceCopy {
    private DeviceCopy() {
    }

    /** Copies {@code bytes} from {@code src} to {@code dst}, ordered on {@code stream}; returns when done. */
    static void copy(long dst, long src, long bytes, long stream) {
        if (bytes > 0) {
            LogLinearException.check(lla_memcpy(new Storage.Address(dst), new Storage.Address(src), bytes,
                    NativeCall.stream(stream)));
        }
    }

    /** The same copy queued on {@code stream}, returning before it completes. */
    static void copyAsync(long dst, long src, long bytes, long stream) {
        if (bytes > 0) {
            LogLinearException.check(lla_memcpy_async(new Storage.Address(dst), new Storage.Address(src), bytes,
                    NativeCall.stream(stream)));
        }
    }
}

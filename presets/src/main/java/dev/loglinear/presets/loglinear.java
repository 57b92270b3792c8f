package dev.loglinear.presets;

import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * JavaCPP presets for {@code loglinear/loglinear.h}, the plain-C API of libloglinear.
 *
 * <p>The parser turns the header into {@code dev.loglinear.presets.lla_*} struct classes
 * and {@code dev.loglinear.presets.global.loglinear} (functions and constants); the
 * JavaCPP compiler builds {@code libjniloglinear.so}, linked against {@code libloglinear.so.0},
 * and both are bundled under {@code dev/loglinear/presets/<platform><extension>/} in the
 * classifier jar. The {@code -cuda} extension is the same API from a library built with
 * {@code -DLLA_CUDA=ON}; when both jars are on the class path the CUDA one is loaded.
 *
 * <p>These bindings mirror C one to one. Applications use the {@code dev.loglinear} API of
 * the {@code loglinear} artifact instead.
 */
@Properties(
    value = {
        @Platform(value = "linux-x86_64", include = "loglinear/loglinear.h", link = "loglinear@.0"),
        @Platform(value = "linux-x86_64", extension = "-cuda", include = "loglinear/loglinear.h",
                  link = "loglinear@.0"),
    },
    target = "dev.loglinear.presets",
    global = "dev.loglinear.presets.global.loglinear")
@NoException
public class loglinear implements InfoMapper {
    @Override
    public void map(InfoMap infoMap) {
        // The export macro and include guards carry no API.
        infoMap.put(new Info("LLA_API").cppTypes().annotations())
               .put(new Info("LOGLINEAR_LOGLINEAR_H").skip())
               .put(new Info("defined(_WIN32)").define(false));
    }
}

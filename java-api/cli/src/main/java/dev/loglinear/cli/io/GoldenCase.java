package dev.loglinear.cli.io;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.annotations.SerializedName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One golden case folder: {@code case.json} (variant, scale, shapes, optional
 * cu_seqlens and state_position) next to its {@code .npy} inputs and outputs.
 * See docs/golden-format.md.
 */
public final class GoldenCase {
    /** The names of the inputs every variant has, in the order of the C API. */
    public static final List<String> INPUTS = List.of("q", "k", "v", "g", "l");

    private final Path dir;
    private final Json json;

    /** The fields of case.json, as Gson fills them. */
    private static final class Json {
        String variant;
        Double scale;
        Map<String, long[]> shapes;
        @SerializedName("cu_seqlens")
        long[] cuSeqlens;
        @SerializedName("state_position")
        Long statePosition;
    }

    private GoldenCase(Path dir, Json json) {
        this.dir = dir;
        this.json = json;
    }

    public static GoldenCase load(Path dir) throws IOException {
        Path file = dir.resolve("case.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException("--case " + dir + ": no case.json in that folder");
        }
        Json json;
        try {
            json = new Gson().fromJson(Files.readString(file), Json.class);
        } catch (JsonParseException e) {
            throw new IOException(file + ": not valid case.json: " + e.getMessage(), e);
        }
        if (json == null || json.variant == null || json.shapes == null) {
            throw new IOException(file + ": expected the keys 'variant' and 'shapes'");
        }
        for (String name : INPUTS) {
            if (!json.shapes.containsKey(name)) {
                throw new IOException(file + ": shapes has no '" + name + "' (has " + json.shapes.keySet() + ")");
            }
        }
        return new GoldenCase(dir, json);
    }

    public Path dir() {
        return dir;
    }

    /** "m2" or "gdn", as written in case.json. */
    public String variant() {
        return json.variant;
    }

    public boolean isGatedDeltaNet() {
        return "gdn".equals(json.variant);
    }

    public double scale() {
        return json.scale == null ? 1.0 : json.scale;
    }

    public long[] shape(String name) {
        long[] s = json.shapes.get(name);
        if (s == null) {
            throw new IllegalArgumentException("case " + dir + " has no shape for '" + name + "'");
        }
        return s.clone();
    }

    /** Offsets of the packed sequences, or null for a plain [B, T] batch. */
    public long[] cuSeqlens() {
        return json.cuSeqlens == null ? null : json.cuSeqlens.clone();
    }

    /** The position n of the state to export, or null when the case has none. */
    public Long statePosition() {
        return json.statePosition;
    }

    /** Reads {@code name.npy} from the case folder and checks its shape against case.json. */
    public NpyArray read(String name) throws IOException {
        NpyArray a = Npy.read(dir.resolve(name + ".npy"));
        long[] expected = json.shapes.get(name);
        if (expected != null && !Arrays.equals(expected, a.shape())) {
            throw new IOException(dir.resolve(name + ".npy") + ": shape " + a.shapeString()
                    + " differs from case.json's " + Arrays.toString(expected));
        }
        return a;
    }

    public boolean has(String name) {
        return Files.isRegularFile(dir.resolve(name + ".npy"));
    }
}

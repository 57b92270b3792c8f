#include "npy.h"

#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>

namespace lla::caseio {

int64_t Array::size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string Array::shape_string() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error(path + ": " + what);
}

// The value of 'key' in the header dict, up to its closing delimiter.
std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) fail(path, "npy header has no '" + key + "': " + header);
    size_t v = header.find(':', k);
    if (v == std::string::npos) fail(path, "npy header is malformed: " + header);
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    if (v < header.size() && header[v] == '(') {
        const size_t end = header.find(')', v);
        if (end == std::string::npos) fail(path, "npy header shape is not closed: " + header);
        return header.substr(v + 1, end - v - 1);
    }
    if (v < header.size() && header[v] == '\'') {
        const size_t end = header.find('\'', v + 1);
        if (end == std::string::npos) fail(path, "npy header string is not closed: " + header);
        return header.substr(v + 1, end - v - 1);
    }
    const size_t end = header.find_first_of(",}", v);
    return header.substr(v, end - v);
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
    std::vector<int64_t> shape;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
        if (i == text.size()) break;
        size_t used = 0;
        long long d = 0;
        try {
            d = std::stoll(text.substr(i), &used);
        } catch (const std::exception&) {
            fail(path, "npy shape is not a tuple of integers: (" + text + ")");
        }
        if (d < 0) fail(path, "npy shape has a negative dimension: (" + text + ")");
        shape.push_back(d);
        i += used;
    }
    return shape;
}

template <class T>
void convert(const std::vector<char>& raw, std::vector<double>* out) {
    for (size_t i = 0; i < out->size(); ++i) {
        T x;
        std::memcpy(&x, raw.data() + i * sizeof(T), sizeof(T));
        (*out)[i] = static_cast<double>(x);
    }
}

}  // namespace

Array read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open");
    char magic[kMagicSize];
    unsigned char version[2];
    in.read(magic, kMagicSize);
    in.read(reinterpret_cast<char*>(version), 2);
    if (!in || std::memcmp(magic, kMagic, kMagicSize) != 0) fail(path, "not a NumPy .npy file (bad magic)");
    uint32_t header_len = 0;
    if (version[0] == 1) {
        unsigned char b[2];
        in.read(reinterpret_cast<char*>(b), 2);
        header_len = b[0] | (b[1] << 8);
    } else if (version[0] == 2 || version[0] == 3) {
        unsigned char b[4];
        in.read(reinterpret_cast<char*>(b), 4);
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
    } else {
        fail(path, "unsupported .npy format version " + std::to_string(version[0]));
    }
    std::string header(header_len, '\0');
    in.read(header.data(), header_len);
    if (!in) fail(path, "truncated .npy header");

    const std::string descr = header_field(header, "descr", path);
    if (header_field(header, "fortran_order", path).find("False") == std::string::npos)
        fail(path, "Fortran-order arrays are not supported (write C order)");
    Array a;
    a.shape = parse_shape(header_field(header, "shape", path), path);
    a.values.resize(static_cast<size_t>(a.size()));

    size_t elem = 0;
    std::function<void(const std::vector<char>&, std::vector<double>*)> decode;
    if (descr == "<f8") elem = 8, decode = convert<double>;
    else if (descr == "<f4") elem = 4, decode = convert<float>;
    else if (descr == "<i8") elem = 8, decode = convert<int64_t>;
    else if (descr == "<i4") elem = 4, decode = convert<int32_t>;
    else fail(path, "unsupported dtype '" + descr + "' (expected <f8, <f4, <i8 or <i4)");
    std::vector<char> raw(a.values.size() * elem);
    in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    if (!in) fail(path, "truncated data: expected " + std::to_string(raw.size()) + " bytes for shape " +
                            a.shape_string());
    decode(raw, &a.values);
    return a;
}

void write_npy(const std::string& path, const Array& array) {
    if (static_cast<int64_t>(array.values.size()) != array.size())
        fail(path, "array has " + std::to_string(array.values.size()) + " values but shape " +
                       array.shape_string());
    std::string shape = "(";
    for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + ", ";
    if (array.shape.size() > 1) shape.resize(shape.size() - 2);  // (n,) keeps its comma
    shape += ")";
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
    // Magic + version + length + header + '\n' is a multiple of 64 bytes.
    const size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    if (!out) fail(path, "cannot create");
    out.write(kMagic, kMagicSize);
    const unsigned char version[2] = {1, 0};
    out.write(reinterpret_cast<const char*>(version), 2);
    const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                  static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(len), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(array.values.data()),
              static_cast<std::streamsize>(array.values.size() * sizeof(double)));
    if (!out) fail(path, "write failed");
}

}  // namespace lla::caseio

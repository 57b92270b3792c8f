// The .npy reader and writer of lla_caseio (used by llacheck and the golden
// tests): round trips, the header layout NumPy expects, other stored dtypes
// and format versions, and clear errors on files it cannot read.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "npy.h"

namespace {

using lla::caseio::Array;
using lla::caseio::read_npy;
using lla::caseio::write_npy;

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("lla_npy_test_" + name)).string();
}

// A raw .npy file: magic, version, header (padded to 64 bytes), payload.
void write_raw(const std::string& path, int major, std::string header, const void* data, size_t bytes) {
    const size_t len_bytes = major == 1 ? 2 : 4;
    const size_t unpadded = 6 + 2 + len_bytes + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY", 6);
    const unsigned char version[2] = {static_cast<unsigned char>(major), 0};
    out.write(reinterpret_cast<const char*>(version), 2);
    const uint32_t len = static_cast<uint32_t>(header.size());
    out.write(reinterpret_cast<const char*>(&len), static_cast<std::streamsize>(len_bytes));  // little-endian host
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

TEST(Npy, Float64RoundTripKeepsShapeAndBits) {
    for (const Array& a : {Array{{2, 3, 4}, {}}, Array{{5}, {}}, Array{{}, {}}, Array{{1, 1, 1, 1, 7}, {}}}) {
        Array x = a;
        x.values.resize(static_cast<size_t>(x.size()));
        for (size_t i = 0; i < x.values.size(); ++i) x.values[i] = 1.0 / (1.0 + static_cast<double>(i)) - 0.3;
        const std::string path = temp_path("roundtrip.npy");
        write_npy(path, x);
        const Array y = read_npy(path);
        EXPECT_EQ(y.shape, x.shape) << x.shape_string();
        EXPECT_EQ(std::memcmp(y.values.data(), x.values.data(), x.values.size() * sizeof(double)), 0);
        // NumPy aligns the data to 64 bytes: header length makes the total a multiple of 64.
        EXPECT_EQ((std::filesystem::file_size(path) - x.values.size() * sizeof(double)) % 64, 0u);
        std::remove(path.c_str());
    }
}

TEST(Npy, ReadsOtherDtypesAndVersion2Headers) {
    const float f[3] = {1.5f, -2.0f, 0.25f};
    const int64_t i[4] = {0, 5, 70, 200};
    const std::string pf = temp_path("f4.npy"), pi = temp_path("i8.npy");
    write_raw(pf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, sizeof f);
    write_raw(pi, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", i, sizeof i);
    const Array af = read_npy(pf), ai = read_npy(pi);
    EXPECT_EQ(af.shape, (std::vector<int64_t>{3}));
    EXPECT_EQ(af.values, (std::vector<double>{1.5, -2.0, 0.25}));
    EXPECT_EQ(ai.shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(ai.values, (std::vector<double>{0, 5, 70, 200}));
    std::remove(pf.c_str());
    std::remove(pi.c_str());
}

void expect_read_error(const std::string& path, const std::string& fragment) {
    try {
        read_npy(path);
        ADD_FAILURE() << "read_npy accepted " << path;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(Npy, RejectsWhatItCannotReadWithTheReason) {
    const double d[2] = {1, 2};
    const std::string p = temp_path("bad.npy");
    write_raw(p, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", d, sizeof d);
    expect_read_error(p, "Fortran");
    write_raw(p, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", d, sizeof d);
    expect_read_error(p, "unsupported dtype");
    write_raw(p, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d, sizeof d);
    expect_read_error(p, "truncated");
    {
        std::ofstream out(p, std::ios::binary);
        out << "not an npy file";
    }
    expect_read_error(p, "magic");
    std::remove(p.c_str());
    expect_read_error(temp_path("missing.npy"), "cannot open");
}

}  // namespace

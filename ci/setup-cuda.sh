#!/usr/bin/env bash
# Installs what the CUDA build needs into the ignored folder .toolchain/, from
# pinned, hash-checked PyPI wheels (ci/cuda-wheels.txt, ci/cuda-compiler-wheels.txt):
#   - CUTLASS/CuTe 4.2.0 headers        -> .toolchain/cutlass/include/{cute,cutlass}
#   - a CUDA 13.0 compiler toolkit, only when the machine has no usable nvcc
#                                        -> .toolchain/cuda-13.0/nvidia/cu13/bin/nvcc
# and writes .toolchain/cuda.env (LLA_CUDA_COMPILER, LLA_CUTLASS_DIR) for
# ci/build-cuda.sh and bench/run-cuda.sh to source. Safe to run again: each part
# is skipped when its stamp matches the pinned list.
#
# Environment: LLA_CUDA_WHEELS=1 uses the compiler wheels even when an nvcc is
# installed; LLA_NVCC=/path/to/nvcc picks a specific installed compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tc=$repo/.toolchain
mkdir -p "$tc/wheels"

python=${PYTHON:-python3}

# Download the wheels of one pinned list (hashes checked) and unpack them into
# $2. A wheel is a zip; Python's zipfile is used because unzip may be absent.
install_wheels() {
    local list=$1 dest=$2 stamp="$2/.stamp"
    local want
    want=$(sha256sum "$list" | cut -d' ' -f1)
    if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return 0
    fi
    rm -rf "$dest"
    mkdir -p "$dest"
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --require-hashes -r "$list" -d "$tc/wheels"
    local names
    names=$(grep -oE '^[A-Za-z0-9_.-]+==[0-9.]+' "$list")
    local spec name version file
    for spec in $names; do
        name=${spec%%==*}
        version=${spec##*==}
        file=$(ls "$tc/wheels/${name//-/_}-${version}-"*.whl | head -n1)
        "$python" -m zipfile -e "$file" "$dest"
    done
    echo "$want" >"$stamp"
}

# --- CUTLASS headers ---------------------------------------------------------
install_wheels ci/cuda-wheels.txt "$tc/cutlass-wheel"
cutlass_src=$tc/cutlass-wheel/cutlass_library/source
for d in include/cute include/cutlass; do
    if [[ ! -d $cutlass_src/$d ]]; then
        echo "setup-cuda: the nvidia-cutlass wheel has no $d under cutlass_library/source" >&2
        exit 1
    fi
done
ln -sfn cutlass-wheel/cutlass_library/source "$tc/cutlass"
cutlass_version=$(grep -E '#define CUTLASS_(MAJOR|MINOR|PATCH) ' "$tc/cutlass/include/cutlass/version.h" |
    awk '{print $3}' | paste -sd.)
echo "setup-cuda: CUTLASS $cutlass_version headers in .toolchain/cutlass/include"

# --- CUDA compiler -----------------------------------------------------------
# An installed nvcc of release 12.3 or newer (sm_90a, CUTLASS 4) is used as is.
usable_nvcc() {
    local nvcc=$1 release
    [[ -x $nvcc ]] || return 1
    release=$("$nvcc" --version | sed -nE 's/.*release ([0-9]+)\.([0-9]+).*/\1 \2/p')
    [[ -n $release ]] || return 1
    set -- $release
    (( $1 > 12 || ($1 == 12 && $2 >= 3) ))
}

nvcc=""
if [[ -n ${LLA_NVCC:-} ]]; then
    usable_nvcc "$LLA_NVCC" || { echo "setup-cuda: LLA_NVCC=$LLA_NVCC is not a usable nvcc (>= 12.3)" >&2; exit 1; }
    nvcc=$LLA_NVCC
elif [[ ${LLA_CUDA_WHEELS:-0} != 1 ]]; then
    for candidate in "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc; do
        if [[ -n $candidate ]] && usable_nvcc "$candidate"; then
            nvcc=$candidate
            break
        fi
    done
fi

if [[ -z $nvcc ]]; then
    install_wheels ci/cuda-compiler-wheels.txt "$tc/cuda-13.0"
    root=$tc/cuda-13.0/nvidia/cu13
    # The three fixes of TOOLCHAIN-NOTES.md:
    chmod +x "$root"/bin/* "$root"/nvvm/bin/*      # 1. zip extraction drops the exec bits
    ln -sfn lib "$root/lib64"                      # 2. nvcc.profile links from lib64
    ln -sfn libcudart.so.13 "$root/lib/libcudart.so" # 3. FindCUDAToolkit wants the plain name
    nvcc=$root/bin/nvcc
fi
"$nvcc" --version | tail -n2 | sed 's/^/setup-cuda: /'

cat >"$tc/cuda.env" <<EOF
# Written by ci/setup-cuda.sh; sourced by ci/build-cuda.sh and bench/run-cuda.sh.
LLA_CUDA_COMPILER=$nvcc
LLA_CUTLASS_DIR=$tc/cutlass
EOF
echo "setup-cuda: wrote .toolchain/cuda.env (nvcc: $nvcc)"

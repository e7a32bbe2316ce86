// RAII around libnftables' nft_ctx: output and errors are buffered, every command is one
// transaction (nft_run_cmd_from_buffer applies a whole script or nothing).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

struct nft_ctx;

namespace rustyolo::nft {

class NftError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class NftContext {
public:
    // json: list commands print JSON instead of nft syntax.
    explicit NftContext(bool json = false);
    ~NftContext();
    NftContext(const NftContext &) = delete;
    NftContext &operator=(const NftContext &) = delete;

    // Runs `script` as one transaction and returns what nft printed. Throws NftError with
    // `what` and libnftables' error text (which names the line and the token).
    std::string run(std::string_view script, std::string_view what);

private:
    nft_ctx *ctx_;
};

}  // namespace rustyolo::nft

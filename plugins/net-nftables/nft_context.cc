#include "plugins/net-nftables/nft_context.hpp"

#include <nftables/libnftables.h>

namespace rustyolo::nft {

NftContext::NftContext(bool json) : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (!ctx_)
        throw NftError("libnftables: nft_ctx_new failed (out of memory?)");
    if (nft_ctx_buffer_output(ctx_) != 0 || nft_ctx_buffer_error(ctx_) != 0) {
        nft_ctx_free(ctx_);
        throw NftError("libnftables: cannot buffer output");
    }
    if (json)
        nft_ctx_output_set_flags(ctx_, nft_ctx_output_get_flags(ctx_) | NFT_CTX_OUTPUT_JSON);
}

NftContext::~NftContext() { nft_ctx_free(ctx_); }

std::string NftContext::run(std::string_view script, std::string_view what) {
    std::string text(script);
    int rc = nft_run_cmd_from_buffer(ctx_, text.c_str());
    const char *output = nft_ctx_get_output_buffer(ctx_);
    std::string result = output ? output : "";
    const char *error = nft_ctx_get_error_buffer(ctx_);  // read every time: this also resets it
    if (rc != 0) {
        std::string detail = error && *error ? error : "no detail from libnftables";
        while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' '))
            detail.pop_back();
        throw NftError(std::string(what) + " failed: " + detail);
    }
    return result;
}

}  // namespace rustyolo::nft

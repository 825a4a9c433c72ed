#include "tls_peer.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace harness {

namespace {

std::string openssl_error(std::string_view what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    char text[256] = "no OpenSSL error";
    if (code != 0) {
        ERR_error_string_n(code, text, sizeof text);
    }
    return fmt::format("{}: {}", what, text);
}

template <typename T>
T* checked(T* pointer, std::string_view what) {
    if (pointer == nullptr) {
        throw std::runtime_error(openssl_error(what));
    }
    return pointer;
}

void ok(int result, std::string_view what) {
    if (result != 1) {
        throw std::runtime_error(openssl_error(what));
    }
}

struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct CertFree {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key new_key() {  // EC P-256: fast to make, and every TLS version signs with it
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        checked(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr), "EVP_PKEY_CTX_new_id"), EVP_PKEY_CTX_free);
    ok(EVP_PKEY_keygen_init(context.get()), "EVP_PKEY_keygen_init");
    ok(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context.get(), NID_X9_62_prime256v1), "curve");
    EVP_PKEY* key = nullptr;
    ok(EVP_PKEY_keygen(context.get(), &key), "EVP_PKEY_keygen");
    return Key(key);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* extension =
        checked(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()), fmt::format("extension {}", value));
    const int added = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    ok(added, "X509_add_ext");
}

// A certificate for `key`, signed by `issuer_key` (`issuer` null: by itself).
Cert make_cert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key, long serial,
               long from_days, long until_days, bool is_ca, const std::string& alt_names) {
    Cert cert(checked(X509_new(), "X509_new"));
    ok(X509_set_version(cert.get(), 2), "X509_set_version");
    ok(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial), "serial");
    checked(X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * 86400), "notBefore");
    checked(X509_gmtime_adj(X509_getm_notAfter(cert.get()), until_days * 86400), "notAfter");
    X509_NAME* name = X509_get_subject_name(cert.get());
    ok(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0),
       "CN");
    ok(X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name), "issuer");
    ok(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
    X509* signer = issuer != nullptr ? issuer : cert.get();
    add_extension(cert.get(), signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage,
                  is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
    if (issuer != nullptr) {
        add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    }
    if (!is_ca) {
        add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    }
    if (!alt_names.empty()) {
        add_extension(cert.get(), signer, NID_subject_alt_name, alt_names);
    }
    if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) {
        throw std::runtime_error(openssl_error("X509_sign"));
    }
    return cert;
}

void write_file(const std::string& path, const std::function<int(FILE*)>& write) {
    FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
        throw std::runtime_error(fmt::format("cannot write {}", path));
    }
    const int written = write(file);
    std::fclose(file);
    ok(written, fmt::format("PEM {}", path));
}

void set_deadlines(int fd, milliseconds timeout) {
    timeval limit{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

}  // namespace

// ---- TestPki ------------------------------------------------------------------

struct TestPki::Keys {
    Key ca_key;
    Cert ca_cert;
};

TestPki::TestPki(std::string_view ca_name) : keys_(std::make_unique<Keys>()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "workbook-pki-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error(fmt::format("mkdtemp: {}", std::strerror(errno)));
    }
    folder_ = pattern;
    keys_->ca_key = new_key();
    keys_->ca_cert = make_cert(keys_->ca_key.get(), std::string(ca_name), nullptr, nullptr, 1, -1, 30, true, "");
    ca_file_ = folder_ + "/ca.pem";
    write_file(ca_file_, [this](FILE* file) { return PEM_write_X509(file, keys_->ca_cert.get()); });
}

TestPki::~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
}

TlsLeaf TestPki::issue(const LeafSpec& spec) {
    ++issued_;
    std::string alt_names;
    for (const std::string& dns : spec.dns) {
        alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
    }
    for (const std::string& ip : spec.ips) {
        alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
    }
    const Key key = new_key();
    const Cert cert = make_cert(key.get(), spec.common_name, spec.self_signed ? nullptr : keys_->ca_cert.get(),
                                spec.self_signed ? nullptr : keys_->ca_key.get(), 100 + issued_,
                                spec.valid_from_days, spec.valid_until_days, false, alt_names);
    TlsLeaf leaf{fmt::format("{}/leaf{}.pem", folder_, issued_), fmt::format("{}/leaf{}.key", folder_, issued_)};
    write_file(leaf.cert_file, [&cert](FILE* file) { return PEM_write_X509(file, cert.get()); });
    write_file(leaf.key_file, [&key](FILE* file) {
        return PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    return leaf;
}

// ---- TlsSession ---------------------------------------------------------------

void TlsSession::send(std::string_view bytes, milliseconds timeout) {
    set_deadlines(fd_, timeout);
    while (!bytes.empty()) {
        const int sent = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        if (sent <= 0) {
            throw std::runtime_error(openssl_error("the test server's SSL_write"));
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

std::string TlsSession::recv_some(milliseconds timeout) {
    set_deadlines(fd_, timeout);
    char buffer[16384];
    const int got = SSL_read(ssl_, buffer, sizeof buffer);
    if (got > 0) {
        return std::string(buffer, static_cast<std::size_t>(got));
    }
    const int error = SSL_get_error(ssl_, got);
    ERR_clear_error();
    if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SSL) || (error == SSL_ERROR_SYSCALL && errno == 0)) {
        return "";
    }
    if (error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        throw Timeout("the test server waits for the client's data", timeout);
    }
    throw std::runtime_error(fmt::format("the test server's SSL_read: SSL error {}, errno {}", error, errno));
}

std::string TlsSession::recv_until(std::string_view marker, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string got;
    while (got.find(marker) == std::string::npos) {
        const std::string piece = recv_some(std::max(deadline.remaining(), milliseconds(1)));
        if (piece.empty()) {
            throw std::runtime_error(fmt::format("the client closed before sending \"{}\"", marker));
        }
        got += piece;
    }
    return got;
}

std::string TlsSession::recv_exact(std::size_t count, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string got;
    while (got.size() < count) {
        const std::string piece = recv_some(std::max(deadline.remaining(), milliseconds(1)));
        if (piece.empty()) {
            throw std::runtime_error(fmt::format("the client closed after {} of {} bytes", got.size(), count));
        }
        got += piece;
    }
    return got;
}

void TlsSession::close_notify() {
    static_cast<void>(SSL_shutdown(ssl_));
    ERR_clear_error();
    ::shutdown(fd_, SHUT_WR);
}

void TlsSession::cut() { ::shutdown(fd_, SHUT_RDWR); }

// ---- TlsServer ----------------------------------------------------------------

struct TlsServer::Context {
    SSL_CTX* context = nullptr;
    ~Context() { SSL_CTX_free(context); }
};

TlsServer::TlsServer(TlsServerOptions options, std::function<void(TlsSession&)> script)
    : options_(std::move(options)), script_(std::move(script)), context_(std::make_unique<Context>()) {
    SSL_CTX* context = checked(SSL_CTX_new(TLS_server_method()), "SSL_CTX_new");
    context_->context = context;
    if (options_.handshake && !options_.plain_reply) {
        ok(SSL_CTX_use_certificate_file(context, options_.leaf.cert_file.c_str(), SSL_FILETYPE_PEM), "certificate");
        ok(SSL_CTX_use_PrivateKey_file(context, options_.leaf.key_file.c_str(), SSL_FILETYPE_PEM), "key");
    }
    if (options_.max_version != 0 && options_.max_version < TLS1_2_VERSION) {
        SSL_CTX_set_security_level(context, 0);  // OpenSSL 3 refuses TLS 1.0/1.1 above level 0
    }
    if (options_.min_version != 0) {
        ok(SSL_CTX_set_min_proto_version(context, options_.min_version), "min version");
    }
    if (options_.max_version != 0) {
        ok(SSL_CTX_set_max_proto_version(context, options_.max_version), "max version");
    }
    SSL_CTX_set_tlsext_servername_arg(context, this);
    SSL_CTX_set_tlsext_servername_callback(context, +[](SSL* ssl, int*, void* arg) -> int {
        auto* self = static_cast<TlsServer*>(arg);
        if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); name != nullptr) {
            const std::lock_guard lock(self->mutex_);
            self->sni_ = name;
        }
        return SSL_TLSEXT_ERR_OK;
    });
    server_ = std::make_unique<LoopbackServer>([this](int listener) { run(listener); });
}

TlsServer::~TlsServer() = default;

std::optional<std::string> TlsServer::sni() const {
    const std::lock_guard lock(mutex_);
    return sni_;
}

std::string TlsServer::handshake_error() const {
    const std::lock_guard lock(mutex_);
    return handshake_error_;
}

void TlsServer::run(int listener) {
    net::Fd connection = accept_within(listener);
    set_deadlines(connection.get(), default_timeout);
    if (options_.plain_reply || !options_.handshake) {
        char hello[4096];
        const ssize_t got = ::recv(connection.get(), hello, sizeof hello, 0);
        if (got > 0 && options_.plain_reply) {
            static_cast<void>(::send(connection.get(), options_.plain_reply->data(), options_.plain_reply->size(),
                                     MSG_NOSIGNAL));
            return;
        }
        while (::recv(connection.get(), hello, sizeof hello, 0) > 0) {  // silent until the client gives up
        }
        return;
    }
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(checked(SSL_new(context_->context), "SSL_new"), SSL_free);
    ok(SSL_set_fd(ssl.get(), connection.get()), "SSL_set_fd");
    ERR_clear_error();
    if (SSL_accept(ssl.get()) != 1) {
        const std::lock_guard lock(mutex_);
        handshake_error_ = openssl_error("SSL_accept");
        return;
    }
    TlsSession session(ssl.get(), connection.get());
    if (script_) {
        script_(session);
    }
}

}  // namespace harness

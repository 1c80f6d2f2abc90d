// Attachments of tickets and comments: type allow-list checked against the file's magic
// bytes, a 10 MB limit, files stored under the module directory with server-generated
// names, metadata rows, reading back and deletion of both.
#pragma once

#include "common.hpp"
#include "multipart.hpp"

#include <set>

namespace tickets {

constexpr size_t kMaxAttachmentBytes = 10 * 1024 * 1024;

struct AttachTarget {
    int64_t ticketId = 0;
    int64_t commentId = 0;
    static AttachTarget ticket(int64_t id) { return {id, 0}; }
    static AttachTarget comment(int64_t id) { return {0, id}; }
};

struct FileData {
    std::string filename, mimeType, bytes, localPath, createdAt;
};

// Kombuse's allow-list (images) and the wider one for OpenKit task attachments.
const std::set<std::string>& imageTypes();
const std::set<std::string>& taskTypes();

// The MIME type of an upload: the declared type when the bytes agree with it, the sniffed
// type when the client sent none (or octet-stream). 400 when not allowed.
std::string checkedType(const Upload& up, const std::set<std::string>& allowed);

JsonObject attachmentJson(const Row& r);

class Attachments {
public:
    explicit Attachments(const Store& store) : s_(store) {}

    JsonObject upload(AttachTarget target, const Upload& up) const;
    // Stores a file under a server-generated name and inserts its row (no uploader check).
    int64_t store(AttachTarget target, const std::string& filename, const std::string& mimeType, const std::string& data,
                  const std::optional<std::string>& uploadedBy) const;
    JsonArray list(AttachTarget target, const std::optional<std::string>& uploadedBy, int64_t limit, int64_t offset) const;
    JsonObject get(int64_t id) const;
    FileData read(int64_t id) const;
    void remove(int64_t id) const;
    std::string absolutePath(const std::string& storagePath) const;

private:
    Row requireRow(int64_t id) const;
    const Store& s_;
};

}  // namespace tickets

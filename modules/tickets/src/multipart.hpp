// A small multipart/form-data parser (RFC 7578) over an in-memory body, and the upload
// it carries: one file part plus the `uploaded_by_id` field.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tickets {

struct MultipartPart {
    std::string name;
    std::optional<std::string> filename;  // present for file parts
    std::string contentType;
    std::string data;
};

// Throws a validation error when the content type is not multipart/form-data with a
// boundary or the body is malformed.
std::vector<MultipartPart> parseMultipart(std::string_view contentType, std::string_view body);

struct Upload {
    std::string filename;  // the client's name, reduced to a safe base name
    std::string contentType;
    std::string data;
    std::optional<std::string> uploadedById;
};

Upload parseUpload(std::string_view contentType, std::string_view body, bool requireUploader);

// The last path component with control characters, quotes and separators removed;
// "file" when nothing is left. Never contains '/', '\\' or "..".
std::string safeFilename(std::string_view raw);

// `inline` or `attachment` with an ASCII fallback and an RFC 5987 UTF-8 name.
std::string contentDisposition(std::string_view kind, std::string_view filename);

}  // namespace tickets

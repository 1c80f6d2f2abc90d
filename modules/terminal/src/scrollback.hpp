// A bounded ring of the most recent PTY output bytes; feeds the restore frame on (re)connect.
// Grows lazily up to its capacity so an idle session costs little memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace atelier::terminal {

class Scrollback {
public:
    explicit Scrollback(size_t capacity) : capacity_(capacity) {}

    void append(std::string_view data) {
        total_ += data.size();
        if (capacity_ == 0) return;
        if (data.size() >= capacity_) {  // only the tail fits
            data = data.substr(data.size() - capacity_);
            buf_.assign(data.begin(), data.end());
            head_ = 0;
            return;
        }
        if (buf_.size() < capacity_) {  // still growing: plain append, then wrap the overflow
            size_t room = capacity_ - buf_.size();
            size_t n = data.size() < room ? data.size() : room;
            buf_.insert(buf_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
            data = data.substr(n);
            if (data.empty()) return;
        }
        // Full ring: overwrite the oldest bytes starting at head_.
        while (!data.empty()) {
            size_t n = capacity_ - head_;
            if (n > data.size()) n = data.size();
            std::copy(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = (head_ + n) % capacity_;
            data = data.substr(n);
        }
    }

    // The retained bytes, oldest first.
    std::string snapshot() const {
        std::string out;
        out.reserve(buf_.size());
        if (buf_.size() < capacity_ || head_ == 0) {
            out.append(buf_.begin(), buf_.end());
        } else {
            out.append(buf_.begin() + static_cast<std::ptrdiff_t>(head_), buf_.end());
            out.append(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
        }
        return out;
    }

    // Bytes written since absolute offset `from` (a running count of every byte ever
    // appended), limited to what is still retained. *start receives the offset actually
    // returned from (> from when older bytes were dropped).
    std::string since(uint64_t from, uint64_t* start) const {
        uint64_t oldest = total_ - buf_.size();
        if (from < oldest) from = oldest;
        if (from > total_) from = total_;
        if (start) *start = from;
        std::string all = snapshot();
        return all.substr(static_cast<size_t>(from - oldest));
    }

    size_t size() const { return buf_.size(); }
    size_t capacity() const { return capacity_; }
    size_t memoryBytes() const { return buf_.capacity(); }
    uint64_t total() const { return total_; }

private:
    size_t capacity_;
    std::vector<char> buf_;
    size_t head_ = 0;  // next write position once the ring is full
    uint64_t total_ = 0;
};

}  // namespace atelier::terminal

// Reassembles messages from AMQP frames: a basic.deliver or basic.return
// method frame, then a content header frame, then body frames up to the
// size the header announced. Frames of other channels may come in between,
// so each channel is assembled on its own. Internal.
//
// Thread-safety: none; owned by the AmqpLink thread.
#pragma once

#include <amqp.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "transport/amqp_message.h"

namespace isoqube::detail {

// A complete message. For a basic.return, `message` carries the exchange,
// routing key, properties and body of the returned publish, and
// `reply_code` says why it came back (312 NO_ROUTE).
struct AmqpContent {
  enum class Kind { kDeliver, kReturn };
  Kind kind = Kind::kDeliver;
  AmqpIncoming message;
  int reply_code = 0;
  std::string reply_text;
};

class AmqpContentAssembler {
 public:
  // Whether a method frame starts a message with content.
  static bool starts_content(const amqp_frame_t& frame);

  // Feeds a method frame that starts_content(), a header or a body frame.
  // Copies what it needs, so the frame's buffers may be recycled after.
  // Returns the message this frame completed, if any.
  std::optional<AmqpContent> feed(const amqp_frame_t& frame);

  // Drops partial messages (the connection they came on is gone).
  void clear() { partial_.clear(); }

 private:
  struct Partial {
    AmqpContent content;
    uint64_t body_size = 0;
    bool has_header = false;
  };
  std::optional<AmqpContent> complete_if_done(uint16_t channel,
                                              Partial& partial);

  std::map<uint16_t, Partial> partial_;
};

}  // namespace isoqube::detail

// Stop strings on streamed text: split over pushes, overlapping, one a prefix of another, UTF-8,
// and the same output however the text is split.
#include "llm/stop_matcher.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

// Pushes each piece and returns what came out of each push, then of flush() when not stopped.
std::vector<std::string> stream(StopMatcher& matcher, const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  for (const std::string& piece : pieces) out.push_back(matcher.push(piece).text);
  if (!matcher.stopped()) out.push_back(matcher.flush());
  return out;
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const std::string& piece : pieces) all += piece;
  return all;
}

// The oracle, on the whole text at once: the text before the first position where a stop string
// ends, checking every end position in turn (the longest stop when several end there).
std::string reference_output(const std::string& text, const std::vector<std::string>& stops) {
  for (size_t end = 1; end <= text.size(); ++end) {
    size_t longest = 0;
    for (const std::string& stop : stops)
      if (stop.size() <= end && text.compare(end - stop.size(), stop.size(), stop) == 0)
        longest = std::max(longest, stop.size());
    if (longest > 0) return text.substr(0, end - longest);
  }
  return text;
}

bool is_whole_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    const size_t length = lead < 0x80 ? 1 : lead >> 5 == 0x6 ? 2 : lead >> 4 == 0xE ? 3 : lead >> 3 == 0x1E ? 4 : 0;
    if (length == 0 || i + length > s.size()) return false;
    for (size_t j = 1; j < length; ++j)
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

TEST(StopMatcher, WithoutStopsEverythingPassesThrough) {
  StopMatcher matcher({});
  EXPECT_EQ(stream(matcher, {"Hello", ", ", "world"}), (std::vector<std::string>{"Hello", ", ", "world", ""}));
}

TEST(StopMatcher, AStopSplitOverManyPushesIsHeldBackAndNeverEmitted) {
  StopMatcher matcher({"</s>"});
  const StopPush first = matcher.push("Hel");
  EXPECT_EQ(first.text, "Hel");
  EXPECT_FALSE(first.stopped);
  EXPECT_EQ(matcher.push("lo<").text, "lo");  // "<" may start "</s>"
  EXPECT_EQ(matcher.push("/").text, "");
  EXPECT_EQ(matcher.push("s").text, "");
  const StopPush last = matcher.push(">world");
  EXPECT_EQ(last.text, "");
  EXPECT_TRUE(last.stopped);
  EXPECT_TRUE(matcher.stopped());
  const StopPush after = matcher.push("more");
  EXPECT_EQ(after.text, "");
  EXPECT_TRUE(after.stopped);
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopMatcher, AFalseStartIsReleasedOnceItCannotBeAStop) {
  StopMatcher matcher({"</s>"});
  EXPECT_EQ(stream(matcher, {"a<", "/b", "c"}), (std::vector<std::string>{"a", "</b", "c", ""}));
  StopMatcher held({"</s>"});
  EXPECT_EQ(held.push("abc</").text, "abc");
  EXPECT_EQ(held.flush(), "</");  // the end of generation settles it
}

TEST(StopMatcher, OverlappingStopsStopWhereTheFirstEnds) {
  const std::vector<std::string> stops = {"ab", "bc"};
  StopMatcher a(stops);
  EXPECT_EQ(stream(a, {"xa", "c"}), (std::vector<std::string>{"x", "ac", ""}));
  StopMatcher b(stops);
  EXPECT_EQ(stream(b, {"x", "b", "c", "d"}), (std::vector<std::string>{"x", "", "", ""}));
  StopMatcher c(stops);
  EXPECT_EQ(stream(c, {"abc"}), (std::vector<std::string>{""}));  // "ab" ends first
  // "bc" ends before "abcd" could: streaming cannot wait for the longer one.
  StopMatcher d({"abcd", "bc"});
  EXPECT_EQ(stream(d, {"xabcd"}), (std::vector<std::string>{"xa"}));
}

TEST(StopMatcher, AStopThatIsAPrefixOfAnotherEndsFirst) {
  StopMatcher a({"<|end|>x", "<|end|>"});
  EXPECT_EQ(stream(a, {"ok<|en", "d|>x"}), (std::vector<std::string>{"ok", ""}));
  // Stops ending at the same place: the longer one is stripped.
  StopMatcher b({"b", "ab"});
  EXPECT_EQ(stream(b, {"xa", "b"}), (std::vector<std::string>{"x", ""}));
}

TEST(StopMatcher, Utf8CutsFallBetweenCharacters) {
  // "€" (E2 82 AC) shares two bytes with "₂" (E2 82 82) and "é!" starts like "é".
  const std::vector<std::string> stops = {"€", "é!", "停止"};
  const std::vector<std::string> characters = {"H", "₂", "O", " ", "é", "t", "é",
                                               " ", "停", "下", " ", "停", "止", "x"};
  StopMatcher matcher(stops);
  std::string emitted;
  for (const std::string& character : characters) {
    const StopPush out = matcher.push(character);
    EXPECT_TRUE(is_whole_utf8(out.text)) << "after '" << character << "'";
    emitted += out.text;
    if (out.stopped) break;
  }
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(emitted, "H₂O été 停下 ");

  // Byte by byte the pieces split characters, but the whole comes out the same.
  StopMatcher bytes(stops);
  std::vector<std::string> pieces;
  for (char byte : joined(characters)) pieces.emplace_back(1, byte);
  EXPECT_EQ(joined(stream(bytes, pieces)), "H₂O été 停下 ");
}

TEST(StopMatcher, TheOutputDoesNotDependOnHowTheTextIsSplit) {
  const std::vector<std::string> stops = {"ab", "bc", "abcab", "cc", "\n\n"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> letter(0, 4), cut(1, 4);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    for (int i = 0; i < 12; ++i) text += "abcx\n"[letter(rng)];
    std::vector<std::string> pieces;
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min<size_t>(cut(rng), text.size() - at);
      pieces.push_back(text.substr(at, n));
      at += n;
    }
    StopMatcher matcher(stops);
    EXPECT_EQ(joined(stream(matcher, pieces)), reference_output(text, stops)) << "text '" << text << "'";
  }
}

TEST(StopMatcher, AnEmptyStopStringIsAnErrorNamingIt) {
  try {
    StopMatcher matcher({"</s>", ""});
    ADD_FAILURE() << "an empty stop string was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("stop string 1 is empty"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::llm

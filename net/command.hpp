// The playground's command line: one command per line, typed in the GUI or read from a
// --script file. The grammar (README, "The playground"):
//
//   ACTOR CALL [VALUE...] [NAME=VALUE...]   a call of the catalogue; VALUEs fill the
//                                           row's parameters in order (the descriptor
//                                           is named only as fd=NAME)
//   ACTOR hold syn|handshake-ack|fin|ack    the catalogue's gate
//   ACTOR release                           its ungate
//   actor NAME server|client                declare an actor (else made on first use:
//                                           a name starting with "server" is a server)
//   step [TITLE]                            close a step (for --save-lesson)
//   save NAME                               save the session as the lesson NAME
//                                           (Session::SetSaveDir says where)
//   # a comment; blank lines are ignored
//
// A value may be "quoted", with C escapes (\n, \t, \r, \0, \\, \", \xNN). Values are
// checked by the lesson parser's own rules (ParseLessonCall): the same call in a lesson
// file and on the command line is accepted or refused alike. Pure: no socket, no lab.
#pragma once

#include "lesson.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope {

// Actor name -> "server" | "client".
using ActorKinds = std::map<std::string, std::string>;

enum class CommandKind : std::uint8_t { Nothing, Call, DeclareActor, Step, Save };

struct Command {
    CommandKind Kind = CommandKind::Nothing;
    std::string Actor;
    std::string ActorKind;  // "server" | "client"
    bool NewActor = false;  // the actor is not in the ActorKinds the line was parsed with
    LessonCall Call;        // Kind == Call: the request (fd and port defaults resolved later)
    nlohmann::json Fields;  // Kind == Call: the call as a lesson file writes it, with only
                            // the fields the line gave
    std::string Title;      // Kind == Step; Kind == Save: the lesson's name
};

// A lesson name `save` accepts, and a file name of its own: letters, digits, '-', '_'
// (not first), at most 64.
bool IsLessonFileName(std::string_view name);

// The kind an actor made on first use gets: "server" for a name starting with "server".
std::string KindForNewActor(std::string_view name);

// Parse one line. On failure returns nullopt and sets `error` to one line naming what was
// expected. `actors` are the actors known so far (the line may make a new one).
std::optional<Command> ParseCommand(std::string_view line, const ActorKinds& actors, std::string& error);

// What may follow `typed` (the line so far): each a whole line, `typed` with its last
// word completed (actors, "step", "actor", calls, parameter names as "name=", allowed
// values). Sorted, without duplicates.
std::vector<std::string> CompleteCommand(std::string_view typed, const ActorKinds& actors);

// The longest text every completion starts with (at least `typed` when there are none).
std::string CommonPrefix(const std::vector<std::string>& completions, std::string_view typed);

} // namespace sockscope

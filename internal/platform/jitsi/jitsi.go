// Package jitsi makes Jitsi meetings. Jitsi has no HTTP API for meetings: a
// room is a URL, created by whoever opens it first. Two kinds:
//
//   - PublicRooms: rooms on meet.jit.si (or another public Jitsi Meet
//     server, JITSI_PUBLIC_URL), no account needed. The room name is the
//     only protection, so it carries 128 random bits. A public room cannot
//     be ended or deleted through any API: it closes when everyone leaves
//     (neither client implements platform.MeetingEnder or MeetingDeleter;
//     8x8 JaaS has no call that ends a meeting either: a moderator ends it
//     for everyone from inside the meeting, and its links stop working an
//     hour after the planned end). meet.jit.si asks the first participant to
//     sign in before the room opens.
//   - JaaS: 8x8's Jitsi as a Service (https://8x8.vc, JITSI_API_URL), where
//     every link carries a JWT signed (RS256) with the customer's private
//     key. Nothing is sent to 8x8 when a meeting is made: the signed links
//     are the meeting. HostURL carries a moderator token and JoinURL a
//     participant token; both are bearer credentials for the room until
//     they expire (an hour after the meeting's end): never log them. A
//     changed meeting's links are signed again for its new times
//     (JaaS.UpdateMeeting).
//
// A public room has no title or time at Jitsi, so a change has nothing to
// send and PublicRooms has no UpdateMeeting (Registration.NoMeetingUpdateNote).
//
// Neither kind calls the network, and both ignore the access token the
// Meeter interface passes.
package jitsi

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Default base URLs.
const (
	DefaultPublicURL = "https://meet.jit.si" // JITSI_PUBLIC_URL
	DefaultJaaSURL   = "https://8x8.vc"      // JITSI_API_URL
)

// RoomRandomBits is how many random bits a room name carries.
const RoomRandomBits = 128

var roomEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// RoomName is a readable, unguessable room name: a slug of the title (at
// most 40 characters of a-z, 0-9 and hyphens) and 128 bits from
// crypto/rand in lower-case base32 (26 characters), e.g.
// "sunday-service-4f3kq...". Jitsi room names are case-insensitive, so
// lower case loses nothing.
func RoomName(title string) (string, error) {
	b := make([]byte, RoomRandomBits/8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("jitsi: random room name: %w", err)
	}
	return Slug(title) + "-" + strings.ToLower(roomEncoding.EncodeToString(b)), nil
}

// Slug is the title in lower-case ASCII letters and digits joined by
// hyphens, accents dropped, at most 40 characters (cut at a word break
// where it can be); "meeting" when nothing is left.
func Slug(title string) string {
	const max = 40
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // a combining accent
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() > max {
			break
		}
	}
	s := b.String()
	if len(s) > max {
		cut := s[:max]
		if s[max] != '-' {
			if i := strings.LastIndexByte(cut, '-'); i > 0 {
				cut = cut[:i]
			}
		}
		s = cut
	}
	s = strings.Trim(s, "-")
	if s == "" {
		return "meeting"
	}
	return s
}

// PublicRooms makes rooms on a public Jitsi Meet server.
type PublicRooms struct {
	base string
}

var _ platform.Meeter = (*PublicRooms)(nil)

// NewPublicRooms makes rooms under baseURL ("" for https://meet.jit.si).
func NewPublicRooms(baseURL string) *PublicRooms {
	if baseURL == "" {
		baseURL = DefaultPublicURL
	}
	return &PublicRooms{base: strings.TrimSuffix(baseURL, "/")}
}

// Whoami names the server: public rooms have no account.
func (p *PublicRooms) Whoami(context.Context, string) (platform.Account, error) {
	host := strings.TrimPrefix(strings.TrimPrefix(p.base, "https://"), "http://")
	return platform.Account{ID: host, Name: "Jitsi Meet (" + host + ")"}, nil
}

// CreateMeeting makes a new room URL, <base>/<room>. Nothing is sent
// anywhere.
func (p *PublicRooms) CreateMeeting(_ context.Context, _ string, spec platform.MeetingSpec) (platform.Meeting, error) {
	if _, err := spec.Normalize(ID, time.Now()); err != nil {
		return platform.Meeting{}, err
	}
	room, err := RoomName(spec.Title)
	if err != nil {
		return platform.Meeting{}, err
	}
	return platform.Meeting{ExternalID: room, JoinURL: p.base + "/" + room, Extra: map[string]string{"room": room}}, nil
}

package connection

import "time"

// Expiry notices: how soon a token that cannot be refreshed expires, as the
// token refresher last saw it. A change of the notice is written on the
// connection, and the table's stream makes it the connection.expiring
// event (internal/event), so the warning exists exactly when it was written.
const (
	NoticeWeek = "7d"
	NoticeDay  = "1d"
)

// noticeAhead are the notices, the nearest last, with how long before the
// expiry each is due.
var noticeAhead = []struct {
	notice string
	ahead  time.Duration
}{{NoticeWeek, 7 * 24 * time.Hour}, {NoticeDay, 24 * time.Hour}}

// expiryNotice is the notice a connection whose token expires at expires
// (zero: never) is due at now: "" while more than a week remains.
func expiryNotice(expires, now time.Time) string {
	notice := ""
	if expires.IsZero() {
		return notice
	}
	for _, n := range noticeAhead {
		if !now.Before(expires.Add(-n.ahead)) {
			notice = n.notice
		}
	}
	return notice
}

// nextNoticeAt is when the next notice of a token expiring at expires is
// due after now; zero when none is.
func nextNoticeAt(expires, now time.Time) time.Time {
	if expires.IsZero() {
		return time.Time{}
	}
	for _, n := range noticeAhead {
		if at := expires.Add(-n.ahead); at.After(now) {
			return at
		}
	}
	return time.Time{}
}

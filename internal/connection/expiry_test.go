package connection

import (
	"testing"
	"time"
)

func TestExpiryNoticesAreDueAWeekAndADayBeforeTheExpiry(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		before time.Duration
		notice string
		next   time.Time
	}{
		{30 * 24 * time.Hour, "", exp.Add(-7 * 24 * time.Hour)},
		{7*24*time.Hour + time.Second, "", exp.Add(-7 * 24 * time.Hour)},
		{7 * 24 * time.Hour, NoticeWeek, exp.Add(-24 * time.Hour)},
		{2 * 24 * time.Hour, NoticeWeek, exp.Add(-24 * time.Hour)},
		{24 * time.Hour, NoticeDay, time.Time{}},
		{time.Hour, NoticeDay, time.Time{}},
	}
	for _, c := range cases {
		now := exp.Add(-c.before)
		if got := expiryNotice(exp, now); got != c.notice {
			t.Errorf("%v before: notice %q, want %q", c.before, got, c.notice)
		}
		if got := nextNoticeAt(exp, now); !got.Equal(c.next) {
			t.Errorf("%v before: next notice at %v, want %v", c.before, got, c.next)
		}
	}
	if expiryNotice(time.Time{}, exp) != "" || !nextNoticeAt(time.Time{}, exp).IsZero() {
		t.Error("a token that does not expire has notices")
	}
}

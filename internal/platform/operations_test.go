package platform_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

type ender struct{}

func (ender) End(context.Context, string, platform.Broadcast) error { return nil }

type meetingBoth struct{}

func (meetingBoth) EndMeeting(context.Context, string, platform.Meeting) error    { return nil }
func (meetingBoth) DeleteMeeting(context.Context, string, platform.Meeting) error { return nil }

func TestWithOperationsDerivesTheOperationCapabilitiesFromTheClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		client   any
		declared []platform.Capability
		want     []platform.Capability
	}{
		{"a broadcaster with End", ender{},
			[]platform.Capability{platform.CapBroadcastCreate, platform.CapBroadcastStatus, platform.CapTokenRefresh},
			[]platform.Capability{platform.CapBroadcastCreate, platform.CapBroadcastStatus, platform.CapBroadcastEnd, platform.CapTokenRefresh}},
		{"a client without operations", struct{}{},
			[]platform.Capability{platform.CapBroadcastCreate, platform.CapTokenRevoke},
			[]platform.Capability{platform.CapBroadcastCreate, platform.CapTokenRevoke}},
		{"a meeter that ends and deletes, no token capabilities", meetingBoth{},
			[]platform.Capability{platform.CapMeetingCreate},
			[]platform.Capability{platform.CapMeetingCreate, platform.CapMeetingEnd, platform.CapMeetingDelete}},
	} {
		if got := platform.WithOperations(tc.client, tc.declared...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeclaringAnOperationCapabilityByHandPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("meeting.delete declared by hand for a client without DeleteMeeting was accepted")
		}
	}()
	platform.WithOperations(struct{}{}, platform.CapMeetingCreate, platform.CapMeetingDelete)
}

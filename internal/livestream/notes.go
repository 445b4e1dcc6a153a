package livestream

import "github.com/switchboard-dev/switchboard/internal/platform"

// Note says plainly what a target's platform does not do through its
// public API, for callers to tell their users; "" when nothing needs
// saying.
func Note(p platform.ID) string {
	switch p {
	case platform.YouTube:
		return "YouTube goes live only while the encoder pushes to the ingest: start the encoder before the scheduled start. " +
			"Until it pushes, going live fails and is tried again for about 15 minutes."
	case platform.Instagram:
		return "Instagram has no public API to create, start or end a live broadcast: Switchboard keeps the stream URL and key " +
			"copied from Instagram Live Producer and makes no call to start or end it. Instagram goes live when the broadcast is " +
			"started in Live Producer with the encoder pushing; live and ended here mean Switchboard has done its part."
	case platform.Restream:
		// Evidence: PLATFORMS.md Restream "(corrected) Fan-out"; developers.restream.io/private-api/stream-key.
		return "A Restream target streams to your Restream account's default stream key, which goes out to every channel " +
			"you have enabled in Restream's dashboard, and only to those: channel choice is made in Restream, not here " +
			"(Restream's API cannot choose them). Restream has no start, end or delete call: the stream goes live when the " +
			"encoder pushes to the ingest and ends when it stops; live, ended and cancelled here mean Switchboard has done its part."
	}
	return ""
}

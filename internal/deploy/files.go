package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ChunkBytes is the most archive bytes one stored piece holds: DynamoDB
// items are at most 400 KB, keys and attribute names included.
const ChunkBytes = 350 << 10

// packFiles archives the files (tar, gzip) and cuts the archive into
// pieces of at most ChunkBytes. Generated scaffolds are mostly text, so
// the archive is usually a fraction of the request.
func packFiles(files []platform.ProjectFile) ([][]byte, FileSet, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	set := FileSet{Count: len(files)}
	for _, f := range files {
		hdr := &tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, FileSet{}, fmt.Errorf("deploy: archiving %q: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, FileSet{}, fmt.Errorf("deploy: archiving %q: %w", f.Path, err)
		}
		set.Bytes += int64(len(f.Data))
	}
	if err := tw.Close(); err != nil {
		return nil, FileSet{}, fmt.Errorf("deploy: archiving files: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, FileSet{}, fmt.Errorf("deploy: compressing files: %w", err)
	}
	archive := buf.Bytes()
	sum := sha256.Sum256(archive)
	set.SHA256 = hex.EncodeToString(sum[:])
	var chunks [][]byte
	for len(archive) > 0 {
		n := min(len(archive), ChunkBytes)
		chunks = append(chunks, archive[:n:n])
		archive = archive[n:]
	}
	set.Chunks = len(chunks)
	return chunks, set, nil
}

// errFilesDamaged is the cause when stored pieces do not make the archive
// that was stored.
var errFilesDamaged = errors.New("deploy: the stored files do not match what was accepted")

// unpackFiles joins the pieces, checks them against the set and reads the
// files back in their order.
func unpackFiles(chunks [][]byte, set FileSet) ([]platform.ProjectFile, error) {
	archive := bytes.Join(chunks, nil)
	sum := sha256.Sum256(archive)
	if len(chunks) != set.Chunks || hex.EncodeToString(sum[:]) != set.SHA256 {
		return nil, errFilesDamaged
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFilesDamaged, err)
	}
	tr := tar.NewReader(gz)
	files := make([]platform.ProjectFile, 0, set.Count)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errFilesDamaged, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errFilesDamaged, err)
		}
		files = append(files, platform.ProjectFile{Path: hdr.Name, Data: data})
	}
	if len(files) != set.Count {
		return nil, errFilesDamaged
	}
	return files, nil
}

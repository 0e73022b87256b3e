package objstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Spare data files. A file created for a write is durable only once its
// directory entry is: creating the file at write time would cost the
// directory's fsync on every write, a disk cache flush of its own after
// the file's fsync (on ext4, fsyncing a directory whose last change is
// already committed still flushes the device). Instead, empty files are
// created ahead of need, spareBatch at a time in one shard directory,
// and that directory is fsynced once for all of them; a write then takes
// a spare, fills it and fsyncs only the file (which makes its size and
// data durable; the entry already is).
//
// A spare is an ordinary data file that no row references: a crash, or
// Close, leaves at most spareBatch of them, which Open removes with the
// other unreferenced files. IDs stay 128 random bits but for the shard
// prefix: the batch's IDs share their first byte, chosen at random per
// batch, so shards fill evenly over time.

// spareBatch is how many spare files are made at a time.
const spareBatch = 16

// spareFile is a spare: its ID and the file, open for writing.
type spareFile struct {
	id string
	f  *os.File
}

// takeSpare returns an empty data file, open for writing, whose directory
// entry is durable, making a batch first if none is left.
func (s *Store) takeSpare() (spareFile, error) {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	if len(s.spares) == 0 {
		batch, err := s.makeSpares()
		if err != nil {
			return spareFile{}, err
		}
		s.spares = batch
	}
	sp := s.spares[len(s.spares)-1]
	s.spares = s.spares[:len(s.spares)-1]
	return sp, nil
}

// makeSpares creates spareBatch empty files in one shard directory and
// fsyncs the directory once.
func (s *Store) makeSpares() (batch []spareFile, err error) {
	shard := newFileID()[:2]
	dir := filepath.Join(s.dataDir, shard)
	defer func() {
		if err != nil {
			for _, sp := range batch {
				sp.f.Close()
				os.Remove(s.dataPath(sp.id))
			}
			batch = nil
		}
	}()
	for range spareBatch {
		id := shard + newFileID()[2:]
		f, err := s.createData(filepath.Join(dir, id))
		if err != nil {
			return batch, err
		}
		batch = append(batch, spareFile{id: id, f: f})
	}
	if err := syncDir(dir); err != nil {
		return batch, err
	}
	return batch, nil
}

// dropSpares removes the spare files not taken; Close calls it. A spare
// left behind by a crash is removed by the next Open.
func (s *Store) dropSpares() error {
	s.spareMu.Lock()
	spares := s.spares
	s.spares = nil
	s.spareMu.Unlock()
	var first error
	for _, sp := range spares {
		sp.f.Close()
		if err := os.Remove(s.dataPath(sp.id)); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = fmt.Errorf("remove spare data file: %w", err)
		}
	}
	return first
}

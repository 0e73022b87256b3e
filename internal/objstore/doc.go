// Package objstore is the object store engine: buckets, objects, multipart
// uploads and listings, with object data in files under one directory and
// metadata behind the [Catalog] interface (SQLite embedded by default; the
// SQL is kept portable so a PostgreSQL engine can implement it too).
//
// # Layout
//
//	dir/LOCK           flock(2)ed while a Store has the directory open
//	dir/meta.db        SQLite catalog (WAL mode), with the data of small
//	                   objects (Options.InlineMax, 128 KiB by default)
//	dir/tmp/           leftovers of older versions, emptied at Open
//	dir/data/xx/ID     data files: ID is 32 random hex digits, xx its first two
//	                   (shard directories are made on first use)
//
// A data file never carries an object's key: every object version and every
// multipart part gets a fresh random ID, so a write never touches the files a
// reader has open, and a crash can leave at most unreferenced files behind.
//
// # Durability
//
// An object becomes visible only once its data and metadata are durable.
// A small object's data is written in the catalog transaction that
// commits its row (inline.go); a larger one's goes to a new data file
// under a fresh ID, whose directory entry was made durable before
// (spares.go), and the file is fsynced before the metadata row is
// committed. Commits run with SQLite synchronous=FULL: the WAL is fsynced
// at every commit; writes that wait while one commits share the next
// commit, each returning only once it is durable.
// The commit that replaces or deletes an object records the old data files
// as garbage in the same transaction; they are unlinked after the commit.
// [Open] removes temporary files, unlinks recorded garbage and data files
// that no metadata row references (a crash before the commit, during the
// write or after it).
// That scan holds the set of referenced file IDs in memory, about 100 bytes
// per data file.
//
// # Versions
//
// A bucket is unversioned until versioning is first enabled
// ([Store.SetBucketVersioning]). The catalog keeps the current live object
// of every key in an index of its own, apart from noncurrent versions and
// delete markers, and changes both in one transaction: listings read only
// the index, so their cost follows the keys returned, not the markers and
// old versions between them (case C27). Version IDs sort newest first and
// carry 64 random bits. Catalogs written before versioning are migrated
// at Open (PRAGMA user_version).
//
// # Lifecycle
//
// A bucket's lifecycle rules ([Store.PutBucketLifecycle]) are run by a
// [Lifecycle] service in bounded passes; Options.LifecycleDay sets how
// long a rule's "day" lasts.
//
// # Multipart objects
//
// Completing an upload does not copy: the object's metadata lists its parts'
// data files as segments, and [Object.ReadAt] reads across them.
package objstore

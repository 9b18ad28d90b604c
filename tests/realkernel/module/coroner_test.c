// SPDX-License-Identifier: GPL-2.0
/*
 * coroner's test module: real freed objects for coroner to find in a real dump.
 *
 * Loaded in the QEMU guest booted with slub_debug=FZPU, it creates the kmem_cache "coroner_obj",
 * keeps COUNT objects allocated and frees as many (so they carry SLUB's poison and alloc/free
 * tracks), writes into one freed object (a write after free), starts two kernel threads that
 * hold pointers to two other freed objects on their stacks, and then crashes as `crash=` says:
 *
 *   none        return; the guest crashes with sysrq-c
 *   uaf         read a pointer out of a freed object and follow it (general protection fault on
 *               0x6b6b6b6b6b6b6b6b, POISON_FREE)
 *   null        follow a NULL pointer to a member (page fault at a small address)
 *   bug         BUG() in the module
 *   panic       panic() with a message
 *   overwrite   allocate until SLUB hands out the object written after its free: its poison check
 *               reports "Poison overwritten" and taints the kernel (panic_on_taint=0x20 panics)
 *   list_del    list_del() one entry twice: CONFIG_DEBUG_LIST's "list_del corruption" and BUG
 *   freed_lock  spin_lock() a lock inside a freed object: the poison reads as locked, the CPU
 *               spins until the soft-lockup watchdog fires (softlockup_panic=1)
 *   hang        a kernel thread waits on a completion on its own stack that nobody completes,
 *               until the hung-task detector fires (hung_task_panic=1); insmod sleeps meanwhile
 *   dead_completion  seed 003 (kernel bug 29402): a function returns without waiting for the
 *               completion on its stack, the frame is reused, and a work item completes it late:
 *               complete() follows the reused bytes to a non-canonical address and oopses
 *   splice_hashed    seed 004: a positive dentry that is already hashed reaches d_splice_alias()
 *               through functions named as the NFS open path: BUG_ON(!d_unhashed(dentry))
 *   zeroout_hang     seed 003's comment 8: a thread named ext4lazyinit waits in a function named
 *               blkdev_issue_zeroout for a completion its end_io sent before counting the bio done,
 *               so it waits again and forever (hung_task_panic=1)
 *   live_completion  seed 003's near miss: the same late complete() and the same garbage in the
 *               completion, but the frame that declared it has not returned (it sleeps)
 *   splice_negative  seed 004's near miss: the same BUG in d_splice_alias() on the same path, but
 *               the hashed dentry is negative (no inode): not the race where it turned positive
 *   stale_batch seed 003's race one pointer away, with other names: a request's private pointer
 *               leads to a batch in its submitter's returned frame; the work item that ends the
 *               request reads the batch's completion pointer out of the reused frame and
 *               complete() faults on it, so only the request's field leads to the dead frame
 *   realloc     a use after reallocation: the holder keeps an entry a reaper thread frees and a
 *               refill thread allocates again (valid, unpoisoned memory), and the holder's
 *               BUG_ON() on one of its fields fires
 *
 * Every address coroner needs is printed ("coroner_test: live[0] = ...") so tests can check.
 */
#include <linux/completion.h>
#include <linux/dcache.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define COUNT 8

struct coroner_obj {
	unsigned long magic;
	int id;
	u32 flags;
	char name[24];
	struct list_head link;
	struct coroner_obj *peer;
	void (*callback)(struct coroner_obj *obj);
	u64 stamp;
};

static char *crash = "none";
module_param(crash, charp, 0444);
MODULE_PARM_DESC(crash, "how to crash after setting up: none, uaf, null, bug, panic, overwrite, list_del, freed_lock, "
		 "hang, dead_completion, splice_hashed, zeroout_hang, live_completion, splice_negative, stale_batch, "
		 "realloc");

/* A lock in an object of its own cache, so that a dump names its type through the cache. */
struct coroner_lockbox {
	spinlock_t lock;
	int value;
};

static struct kmem_cache *coroner_cache;
static struct coroner_obj *live[COUNT];
static struct coroner_obj *freed[COUNT];
static LIST_HEAD(coroner_list);
static DECLARE_WAIT_QUEUE_HEAD(holder_wait);
static DECLARE_COMPLETION(holders_ready);
static atomic_t holders_started = ATOMIC_INIT(0);

static noinline void coroner_callback(struct coroner_obj *obj)
{
	obj->stamp++;
}

static noinline struct coroner_obj *coroner_alloc(int id)
{
	struct coroner_obj *obj = kmem_cache_alloc(coroner_cache, GFP_KERNEL);

	if (!obj)
		return NULL;
	obj->magic = 0xc0de0000UL + id;
	obj->id = id;
	obj->flags = 0x10 | id;
	snprintf(obj->name, sizeof(obj->name), "obj-%d", id);
	INIT_LIST_HEAD(&obj->link);
	obj->peer = NULL;
	obj->callback = coroner_callback;
	obj->stamp = 1000 + id;
	return obj;
}

static atomic_t released = ATOMIC_INIT(0);

/* The function whose name the free tracks must show: the count after the free keeps the compiler
 * from making kmem_cache_free() a tail call, which would leave this frame out of the track. */
static noinline void coroner_release(struct coroner_obj *obj)
{
	list_del(&obj->link);
	kmem_cache_free(coroner_cache, obj);
	atomic_inc(&released);
}

/* A kernel thread that keeps pointers to freed objects in stack slots while it sleeps: `data`, and
 * freed[5], the object crash=uaf goes through (so that the crash has other holders to find). */
static noinline int coroner_holder(void *data)
{
	struct coroner_obj *volatile held[2];

	held[0] = data;
	held[1] = freed[5];
	barrier_data(held);
	atomic_inc(&holders_started);
	complete(&holders_ready);
	wait_event_interruptible(holder_wait, kthread_should_stop());
	return held[0] && held[1] ? 0 : 1;
}

/* SLUB checks an object's poison when it hands it out again: allocate until freed[3] comes back. */
static noinline void coroner_overwrite(void)
{
	int i;

	for (i = 0; i < 8 * COUNT; i++) {
		struct coroner_obj *obj = kmem_cache_alloc(coroner_cache, GFP_KERNEL);

		if (obj == freed[3])
			break;
	}
	panic("coroner_test: SLUB did not report the write after free (is slub_debug=FZPU set?)");
}

static noinline void coroner_double_list_del(void)
{
	list_del(&live[1]->link);
	pr_info("coroner_test: list_del(%px) once\n", &live[1]->link);
	list_del(&live[1]->link);
}

static noinline void coroner_lock_freed(void)
{
	struct kmem_cache *boxes = kmem_cache_create("coroner_lockbox", sizeof(struct coroner_lockbox), 0, 0, NULL);
	struct coroner_lockbox *box = boxes ? kmem_cache_alloc(boxes, GFP_KERNEL) : NULL;

	if (!box)
		return;
	spin_lock_init(&box->lock);
	box->value = 1;
	kmem_cache_free(boxes, box);
	pr_info("coroner_test: lockbox = %px (freed)\n", box);
	spin_lock(&box->lock);
	box->value++;
	spin_unlock(&box->lock);
}

/* Waits for a completion that lives in this frame and that nobody was given to complete. */
static noinline int coroner_waiter(void *unused)
{
	struct completion done;

	init_completion(&done);
	pr_info("coroner_test: waiter waits on completion %px\n", &done);
	wait_for_completion(&done);
	return 0;
}

/* Starts the thread that will hang, says its pid as `label`, and sleeps (S, not D) meanwhile. */
static noinline void coroner_start_hanging_thread(int (*fn)(void *), const char *name, const char *label)
{
	struct task_struct *t = kthread_run(fn, NULL, "%s", name);

	if (IS_ERR(t))
		return;
	pr_info("coroner_test: %s is pid %d\n", label, t->pid);
	for (;;)
		msleep_interruptible(1000);
}

/* Seed 003. The completion a returned frame declared, which the late work item completes. */
static struct completion *zeroout_wait;

static void coroner_batch_end_io(struct work_struct *work)
{
	complete(zeroout_wait);
}
static DECLARE_DELAYED_WORK(end_io_work, coroner_batch_end_io);

/* As blkdev_issue_zeroout() before commit 0aeea1896417: it counted every bio done before their
 * end_io had called complete(), so it returned without waiting, its completion still in use. */
static noinline void coroner_issue_zeroout(void)
{
	DECLARE_COMPLETION_ONSTACK(wait);

	zeroout_wait = &wait;
	pr_info("coroner_test: zeroout leaves completion %px on its stack\n", &wait);
	schedule_delayed_work(&end_io_work, msecs_to_jiffies(200));
	barrier_data(&wait);
}

/* What the thread runs next reuses the returned frame with `word` in every slot. For seed 003
 * every word's low half is zero, so the completion's lock (the low half of an aligned word) reads
 * unlocked and complete() takes it; its wait list's next pointer reads 0xc0ffee0000000000, not
 * canonical, and complete() faults on it. */
static noinline void coroner_reuse_stack(u64 word)
{
	u64 scratch[240];
	int i;

	for (i = 0; i < ARRAY_SIZE(scratch); i++)
		scratch[i] = word;
	barrier_data(scratch);
}

/* A deep frame, so that the sleep that follows does not reach the returned one. */
static noinline void coroner_lazyinit(void)
{
	volatile char pad[1536];

	pad[0] = 1;
	pad[sizeof(pad) - 1] = 1;
	coroner_issue_zeroout();
	coroner_reuse_stack(0xc0ffee0000000000ULL);
	barrier_data((void *)pad);
}

static noinline void coroner_dead_completion(void)
{
	coroner_lazyinit();
	for (;;)
		msleep_interruptible(1000);
}

/* Seed 003's near miss. The completion's frame is live: it was overwritten in place (the same
 * non-canonical wait-list pointer), not returned from, and the late complete() faults the same way. */
static noinline void coroner_live_completion(void)
{
	DECLARE_COMPLETION_ONSTACK(wait);

	zeroout_wait = &wait;
	wait.wait.task_list.next = (struct list_head *)0xc0ffee0000000000ULL;
	pr_info("coroner_test: live frame keeps completion %px on its stack\n", &wait);
	schedule_delayed_work(&end_io_work, msecs_to_jiffies(200));
	for (;;)
		msleep_interruptible(1000);
}

/* Seed 003, comment 8: bio_batch_end_io() patched to complete() before it counts the bio done. */
struct coroner_bio_batch {
	atomic_t done;
	struct completion *wait;
};

static struct coroner_bio_batch *late_batch;

static void coroner_late_end_io(struct work_struct *work)
{
	complete(late_batch->wait);
	msleep(100); /* the waiter looks at done in between, sees one bio short and waits again */
	atomic_inc(&late_batch->done);
}
static DECLARE_WORK(late_end_io_work, coroner_late_end_io);

/* Named as the kernel function it stands for, which this module does not otherwise see. */
static noinline int blkdev_issue_zeroout(void)
{
	DECLARE_COMPLETION_ONSTACK(wait);
	struct coroner_bio_batch bb = { .done = ATOMIC_INIT(0), .wait = &wait };
	const int issued = 1;

	late_batch = &bb;
	schedule_work(&late_end_io_work);
	while (atomic_read(&bb.done) < issued)
		wait_for_completion(&wait);
	return 0;
}

static noinline int coroner_ext4_lazyinit_thread(void *unused)
{
	return blkdev_issue_zeroout();
}

/* Seed 004, with the NFS open path's function names; barrier_data() keeps each call a call. */
static noinline struct dentry *nfs4_do_open(struct inode *inode, struct dentry *dentry)
{
	struct dentry *alias = d_splice_alias(igrab(inode), dentry);

	barrier_data(alias);
	return alias;
}

static noinline struct dentry *nfs4_atomic_open(struct inode *inode, struct dentry *dentry)
{
	struct dentry *alias = nfs4_do_open(inode, dentry);

	barrier_data(alias);
	return alias;
}

static noinline struct dentry *nfs_atomic_open(struct inode *inode, struct dentry *dentry)
{
	struct dentry *alias = nfs4_atomic_open(inode, dentry);

	barrier_data(alias);
	return alias;
}

static noinline struct dentry *lookup_open(struct inode *inode, struct dentry *dentry)
{
	struct dentry *alias = nfs_atomic_open(inode, dentry);

	barrier_data(alias);
	return alias;
}

/* The dentry another opener instantiated and hashed while this one was about to splice it (or,
 * for the near miss, hashed without an inode). */
static noinline void coroner_splice_hashed(bool positive)
{
	struct dentry *parent = current->fs->root.dentry;
	struct qstr name = QSTR_INIT("10", 2);
	struct dentry *dentry = d_alloc(parent, &name);
	struct inode *inode = dentry ? new_inode(parent->d_sb) : NULL;

	if (!inode)
		return;
	inode->i_ino = 10;
	inode->i_mode = S_IFREG | 0644;
	if (positive)
		d_instantiate(dentry, inode);
	d_rehash(dentry);
	if (positive)
		pr_info("coroner_test: dentry %px hashed with inode %px\n", dentry, inode);
	else
		pr_info("coroner_test: dentry %px hashed without an inode\n", dentry);
	lookup_open(inode, dentry);
}

/* stale_batch: a batch of requests counted in the submitter's frame, as blkdev_issue_zeroout()'s
 * bio_batch was, but reached only through the request's untyped private pointer (a bio's bi_private). */
struct coroner_batch {
	atomic_t pending;
	struct completion *done;
};

struct coroner_request {
	unsigned long tag;
	struct delayed_work work;
	void *private;
	int status;
};

/* The batch pointer dies in this function: what the completer is left with is the completion
 * pointer read out of the reused frame. */
static noinline struct completion *coroner_batch_put(struct coroner_request *req)
{
	struct coroner_batch *batch = req->private;

	return atomic_dec_and_test(&batch->pending) ? batch->done : NULL;
}

static void coroner_request_end(struct work_struct *work)
{
	struct coroner_request *req = container_of(to_delayed_work(work), struct coroner_request, work);
	struct completion *done = coroner_batch_put(req);

	if (done)
		complete(done);
	req->status = 1;
}

/* Drops its own reference and returns without waiting for the request's. */
static noinline void coroner_submit(struct coroner_request *req)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct coroner_batch batch = { .pending = ATOMIC_INIT(2), .done = &done };

	req->private = &batch;
	pr_info("coroner_test: submitter pid %d leaves batch %px in its frame; request %px\n", current->pid, &batch, req);
	schedule_delayed_work(&req->work, msecs_to_jiffies(200));
	atomic_dec(&batch.pending);
	barrier_data(&batch);
}

/* A deep frame, so that the sleep that follows does not reach the returned one. The reused
 * frame's words read 1 in their low half: the batch's pending count drops to 0 and its completion
 * pointer is 0xc0ffee0000000001, not canonical. */
static noinline void coroner_submit_and_reuse(struct coroner_request *req)
{
	volatile char pad[1536];

	pad[0] = 1;
	pad[sizeof(pad) - 1] = 1;
	coroner_submit(req);
	coroner_reuse_stack(0xc0ffee0000000001ULL);
	barrier_data((void *)pad);
}

static noinline void coroner_stale_batch(void)
{
	struct kmem_cache *requests = kmem_cache_create("coroner_request", sizeof(struct coroner_request), 0, 0, NULL);
	struct coroner_request *req = requests ? kmem_cache_zalloc(requests, GFP_KERNEL) : NULL;

	if (!req)
		return;
	req->tag = 0x7e9;
	INIT_DELAYED_WORK(&req->work, coroner_request_end);
	coroner_submit_and_reuse(req);
	for (;;)
		msleep_interruptible(1000);
}

/* realloc: an entry its holder checks after a reaper freed it and a refill thread allocated the
 * same memory again. */
struct coroner_entry {
	unsigned long key;
	int users; /* > 0 while anyone holds the entry */
	u32 generation;
	struct list_head node;
};

static struct kmem_cache *entry_cache;
static struct coroner_entry *shared_entry;
static DECLARE_COMPLETION(entry_freed);
static DECLARE_COMPLETION(entry_reused);

static noinline void coroner_sleep_forever(void)
{
	while (!kthread_should_stop())
		msleep_interruptible(1000);
}

static noinline int coroner_reaper(void *unused)
{
	pr_info("coroner_test: reaper pid %d frees entry %px\n", current->pid, shared_entry);
	kmem_cache_free(entry_cache, shared_entry);
	complete(&entry_freed);
	coroner_sleep_forever();
	return 0;
}

/* Allocates until SLUB hands out the freed entry again, and starts its new life unpublished. */
static noinline int coroner_refill(void *unused)
{
	int i;

	for (i = 0; i < 256; i++) {
		struct coroner_entry *e = kmem_cache_alloc(entry_cache, GFP_KERNEL);

		if (!e)
			break;
		e->key = 0x600d;
		e->users = -1;
		e->generation = 2;
		INIT_LIST_HEAD(&e->node);
		if (e == shared_entry) {
			pr_info("coroner_test: refill pid %d allocated entry %px again\n", current->pid, e);
			break;
		}
	}
	complete(&entry_reused);
	coroner_sleep_forever();
	return 0;
}

/* noipa: the check is given the entry, as a real caller's would be, not its field by value. */
static noinline __attribute__((__noipa__)) void coroner_check_entry(struct coroner_entry *e)
{
	BUG_ON(e->users <= 0);
}

static noinline void coroner_use_after_realloc(void)
{
	struct coroner_entry *held;

	entry_cache = kmem_cache_create("coroner_entry", sizeof(struct coroner_entry), 0, 0, NULL);
	held = entry_cache ? kmem_cache_alloc(entry_cache, GFP_KERNEL) : NULL;
	if (!held)
		return;
	held->key = 0xbeef;
	held->users = 1;
	held->generation = 1;
	INIT_LIST_HEAD(&held->node);
	shared_entry = held;
	pr_info("coroner_test: holder pid %d holds entry %px\n", current->pid, held);
	if (IS_ERR(kthread_run(coroner_reaper, NULL, "coroner_reaper")))
		return;
	wait_for_completion(&entry_freed);
	if (IS_ERR(kthread_run(coroner_refill, NULL, "coroner_refill")))
		return;
	wait_for_completion(&entry_reused);
	coroner_check_entry(held);
}

static noinline void coroner_crash(void)
{
	struct coroner_obj *volatile stale = freed[5];
	struct coroner_obj *volatile nothing = NULL;

	pr_info("coroner_test: crashing: %s\n", crash);
	if (!strcmp(crash, "uaf"))
		pr_info("coroner_test: peer id %d\n", stale->peer->id);
	else if (!strcmp(crash, "null"))
		pr_info("coroner_test: id %d\n", nothing->peer->id);
	else if (!strcmp(crash, "bug"))
		BUG();
	else if (!strcmp(crash, "panic"))
		panic("coroner_test: crash=panic");
	else if (!strcmp(crash, "overwrite"))
		coroner_overwrite();
	else if (!strcmp(crash, "list_del"))
		coroner_double_list_del();
	else if (!strcmp(crash, "freed_lock"))
		coroner_lock_freed();
	else if (!strcmp(crash, "hang"))
		coroner_start_hanging_thread(coroner_waiter, "coroner_waiter", "waiter");
	else if (!strcmp(crash, "dead_completion"))
		coroner_dead_completion();
	else if (!strcmp(crash, "splice_hashed"))
		coroner_splice_hashed(true);
	else if (!strcmp(crash, "zeroout_hang"))
		coroner_start_hanging_thread(coroner_ext4_lazyinit_thread, "ext4lazyinit", "ext4lazyinit");
	else if (!strcmp(crash, "live_completion"))
		coroner_live_completion();
	else if (!strcmp(crash, "splice_negative"))
		coroner_splice_hashed(false);
	else if (!strcmp(crash, "stale_batch"))
		coroner_stale_batch();
	else if (!strcmp(crash, "realloc"))
		coroner_use_after_realloc();
}

static int __init coroner_test_init(void)
{
	int i;

	coroner_cache = kmem_cache_create("coroner_obj", sizeof(struct coroner_obj), 0, 0, NULL);
	if (!coroner_cache)
		return -ENOMEM;
	for (i = 0; i < COUNT; i++) {
		live[i] = coroner_alloc(i);
		freed[i] = coroner_alloc(100 + i);
		if (!live[i] || !freed[i])
			return -ENOMEM;
		list_add_tail(&live[i]->link, &coroner_list);
		list_add_tail(&freed[i]->link, &coroner_list);
		live[i]->peer = freed[i];
		freed[i]->peer = live[i];
	}
	for (i = 0; i < COUNT; i++)
		coroner_release(freed[i]);
	/* A write after free, past the free pointer: SLUB's poison check would catch it. */
	freed[3]->stamp = 0x1122334455667788ULL;
	for (i = 0; i < COUNT; i++)
		pr_info("coroner_test: live[%d] = %px freed[%d] = %px\n", i, live[i], i, freed[i]);
	for (i = 0; i < 2; i++) {
		struct task_struct *t = kthread_run(coroner_holder, freed[2], "coroner_holder/%d", i);

		if (IS_ERR(t))
			return PTR_ERR(t);
		pr_info("coroner_test: holder %d is pid %d, holding %px and %px\n", i, t->pid, freed[2], freed[5]);
		wait_for_completion(&holders_ready);
	}
	coroner_crash();
	return 0;
}

/* Never unloaded in the tests: the guest crashes with it loaded. */
module_init(coroner_test_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("coroner test module: real freed slab objects for post-mortem analysis");

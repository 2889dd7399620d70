/* workq.c — threads that run jobs off the event loop; see workq.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/workq.h"

#define WORKQ_THREADS_MAX	16

struct job {
	struct job	*next;
	workq_fn	 work, done;
	void		*arg;
};

struct workq {
	const char	*name;
	pthread_mutex_t	 lock;
	pthread_cond_t	 more;		/* a job, or stopping */
	pthread_cond_t	 idle;		/* busy went to 0 */
	struct job	*head, *tail;	/* not yet taken */
	unsigned	 busy;		/* given, WORK not returned */
	int		 stopping;
	pthread_t	 threads[WORKQ_THREADS_MAX];
	int		 nthreads, started;
	int		 pipe[2];	/* threads → loop: finished jobs */
	struct event	*ev_done;
};

static void *
workq_thread(void *arg)
{
	struct workq	*wq = arg;
	struct job	*j;

	for (;;) {
		pthread_mutex_lock(&wq->lock);
		while (wq->head == NULL && !wq->stopping)
			pthread_cond_wait(&wq->more, &wq->lock);
		if (wq->stopping) {
			pthread_mutex_unlock(&wq->lock);
			return NULL;
		}
		j = wq->head;
		if ((wq->head = j->next) == NULL)
			wq->tail = NULL;
		pthread_mutex_unlock(&wq->lock);

		j->work(j->arg);
		/* Before the write, which may wait for a loop that drains. */
		pthread_mutex_lock(&wq->lock);
		if (--wq->busy == 0)
			pthread_cond_broadcast(&wq->idle);
		pthread_mutex_unlock(&wq->lock);
		if (write(wq->pipe[1], &j, sizeof(j)) != sizeof(j))
			fatal("%s: result pipe", wq->name);
	}
}

static void
workq_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct workq	*wq = arg;
	struct job	*jobs[64];
	ssize_t		 n;
	size_t		 i;

	(void)what;
	n = read(fd, jobs, sizeof(jobs));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || n % sizeof(jobs[0]) != 0)
		fatalx("%s: result pipe broken", wq->name);
	for (i = 0; i < (size_t)n / sizeof(jobs[0]); i++) {
		jobs[i]->done(jobs[i]->arg);
		free(jobs[i]);
	}
}

struct workq *
workq_new(struct event_base *base, int nthreads, const char *name)
{
	struct workq	*wq;

	if (nthreads < 1 || nthreads > WORKQ_THREADS_MAX ||
	    (wq = calloc(1, sizeof(*wq))) == NULL)
		return NULL;
	wq->name = name;
	wq->nthreads = nthreads;
	wq->pipe[0] = wq->pipe[1] = -1;
	if (pipe2(wq->pipe, O_CLOEXEC) == -1 ||
	    fcntl(wq->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (wq->ev_done = event_new(base, wq->pipe[0], EV_READ | EV_PERSIST,
	    workq_on_done, wq)) == NULL || event_add(wq->ev_done, NULL) == -1) {
		log_warn("%s: workq", name);
		workq_free(wq);
		return NULL;
	}
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->more, NULL);
	pthread_cond_init(&wq->idle, NULL);
	return wq;
}

/* The threads, at the first job (a process that never needs them has none). */
static int
workq_start(struct workq *wq)
{
	int	 err;

	while (wq->started < wq->nthreads) {
		if ((err = pthread_create(&wq->threads[wq->started], NULL,
		    workq_thread, wq)) != 0) {
			errno = err;
			log_warn("%s: cannot start a thread", wq->name);
			return wq->started > 0 ? 0 : -1;
		}
		wq->started++;
	}
	return 0;
}

int
workq_run(struct workq *wq, workq_fn work, workq_fn done, void *arg)
{
	struct job	*j;

	if (wq->started == 0 && workq_start(wq) == -1)
		return -1;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wq->lock);
	if (wq->tail != NULL)
		wq->tail->next = j;
	else
		wq->head = j;
	wq->tail = j;
	wq->busy++;
	pthread_cond_signal(&wq->more);
	pthread_mutex_unlock(&wq->lock);
	return 0;
}

void
workq_drain(struct workq *wq)
{
	pthread_mutex_lock(&wq->lock);
	while (wq->busy > 0)
		pthread_cond_wait(&wq->idle, &wq->lock);
	pthread_mutex_unlock(&wq->lock);
}

void
workq_free(struct workq *wq)
{
	struct job	*j, *jobs[64];
	ssize_t		 n;
	int		 i;

	if (wq == NULL)
		return;
	if (wq->started > 0) {
		pthread_mutex_lock(&wq->lock);
		wq->stopping = 1;
		pthread_cond_broadcast(&wq->more);
		pthread_mutex_unlock(&wq->lock);
		for (i = 0; i < wq->started; i++)
			pthread_join(wq->threads[i], NULL);
		pthread_mutex_destroy(&wq->lock);
		pthread_cond_destroy(&wq->more);
		pthread_cond_destroy(&wq->idle);
	}
	while ((j = wq->head) != NULL) {
		wq->head = j->next;
		free(j);
	}
	if (wq->pipe[0] != -1) {
		(void)fcntl(wq->pipe[0], F_SETFL, O_NONBLOCK);
		while ((n = read(wq->pipe[0], jobs, sizeof(jobs))) > 0)
			for (i = 0; i < (int)(n / (ssize_t)sizeof(jobs[0])); i++)
				free(jobs[i]);
		close(wq->pipe[0]);
		close(wq->pipe[1]);
	}
	if (wq->ev_done != NULL)
		event_free(wq->ev_done);
	free(wq);
}

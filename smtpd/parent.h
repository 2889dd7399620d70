/*
 * parent.h — the parent process: prepares directories, binds the
 * listeners, forks one process per role with only the descriptors it
 * needs, and watches them: if a role dies, the daemon stops; SIGTERM
 * stops the smtp role first (it drains) and then the others.
 *
 * smtpd/, the top floor: the daemon itself.  Nothing of the other folders
 * includes it.
 */
#ifndef SMTPD_PARENT_H
#define SMTPD_PARENT_H

struct conf;

/* parent_run: starts the roles and supervises them; returns the exit status. */
int	parent_run(struct conf *);
/*
 * parent_set_started_fd: a pipe to the command that started submitd in the
 * background: one byte is written to it, and it is closed, once every role
 * serves; closed without a byte (by the exit) if the start fails.
 */
void	parent_set_started_fd(int fd);

#endif

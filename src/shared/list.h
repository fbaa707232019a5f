/* list.h — intrusive doubly linked lists, in the manner of systemd's list.h: an item carries
 * its own prev and next members, a list is a pointer to its first item (NULL when empty).
 *
 * LIST_PREPEND(head, item) makes item the first item. LIST_REMOVE(head, item) unlinks it and
 * clears its links; an item that is not linked (no prev, and not the head) leaves head as it
 * is. Neither allocates or frees anything. */
#pragma once

#define LIST_PREPEND(head, item)                     \
        do {                                         \
                typeof(item) _item_ = (item);        \
                _item_->prev = NULL;                 \
                _item_->next = (head);               \
                if (_item_->next)                    \
                        _item_->next->prev = _item_; \
                (head) = _item_;                     \
        } while (0)

#define LIST_REMOVE(head, item)                            \
        do {                                               \
                typeof(item) _item_ = (item);              \
                if (_item_->prev)                          \
                        _item_->prev->next = _item_->next; \
                else if ((head) == _item_)                 \
                        (head) = _item_->next;             \
                if (_item_->next)                          \
                        _item_->next->prev = _item_->prev; \
                _item_->prev = _item_->next = NULL;        \
        } while (0)

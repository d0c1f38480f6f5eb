/* UDP echo for the Linux peer (`bench net`): every datagram to port 7 goes back to its
 * sender unchanged, as Ingot's httpd does on its echo port. Started by /init in net mode
 * when present. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
        perror("udp-echo: socket");
        return 1;
    }
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(7);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("udp-echo: bind");
        return 1;
    }
    char buffer[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(s, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            continue;
        }
        sendto(s, buffer, (size_t)n, 0, (struct sockaddr *)&from, from_len);
    }
}

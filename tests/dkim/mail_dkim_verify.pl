#!/usr/bin/perl
# mail_dkim_verify.pl — an independent DKIM verifier for the tests: Perl
# Mail::DKIM (Debian's knows rsa-sha256 only), keys from a file, never DNS.
#
#   mail_dkim_verify.pl KEYS MSG...
#
# KEYS: one line per key, "SELECTOR._domainkey.DOMAIN RECORD".  Prints one
# line per signature: "MSG N d=DOMAIN s=SELECTOR a=ALG RESULT (DETAIL)".
# Exit 0 when every rsa-sha256 signature passed (and each message has one).
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS;

my %keys;
my $keyfile = shift @ARGV or die "usage: $0 keys msg...\n";
open(my $kf, '<', $keyfile) or die "$keyfile: $!\n";
while (my $line = <$kf>) {
	$line =~ s/\r?\n$//;
	my ($name, $rec) = split(/ /, $line, 2);
	$keys{lc $name} = $rec if defined $rec;
}
close($kf);

# The key lookup: answers from %keys, split in 255-octet strings like DNS.
{
	no warnings 'redefine';
	*Mail::DKIM::DNS::query = sub {
		my ($name, $type) = @_;
		my $rec = $keys{lc $name};
		return () unless defined $rec && $type eq 'TXT';
		my @chunks = unpack('(a255)*', $rec);
		return (Net::DNS::RR->new(name => $name, type => 'TXT',
		    txtdata => \@chunks));
	};
}

my $bad = 0;
foreach my $file (@ARGV) {
	open(my $fh, '<:raw', $file) or die "$file: $!\n";
	my $v = Mail::DKIM::Verifier->new();
	while (read($fh, my $buf, 65536)) {
		$v->PRINT($buf);
	}
	close($fh);
	$v->CLOSE();
	my @sigs = $v->signatures;
	my $rsa = 0;
	my $n = 0;
	foreach my $sig (@sigs) {
		$n++;
		my $alg = $sig->algorithm // '';
		my $res = $sig->result // 'none';
		my $detail = $sig->result_detail // '';
		printf("%s %d d=%s s=%s a=%s %s (%s)\n", $file, $n,
		    $sig->domain // '', $sig->selector // '', $alg, $res, $detail);
		next unless $alg eq 'rsa-sha256';
		$rsa++;
		$bad = 1 unless $res eq 'pass';
	}
	if ($rsa == 0) {
		print "$file 0 none\n";
		$bad = 1;
	}
}
exit $bad;

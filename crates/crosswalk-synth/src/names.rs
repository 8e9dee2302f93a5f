//! Hand-made name tables: per locale group, given names (by gender) and family names, each
//! in its native spelling and the ASCII form a company would put in an email address.
//!
//! Table syntax: entries separated by whitespace; `native|ascii` when the two differ;
//! family names with a separate feminine form as `masculine/feminine` (each side may be
//! `native|ascii`). Entries are single words: the engine splits names on whitespace.

use std::collections::HashMap;
use std::sync::OnceLock;

use crosswalk_core::normalize::fold_compatible;

/// How a locale writes a full name in its own script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// `Given Family` (`Family, Given` in some LDAP directories).
    GivenFamily,
    /// `Family Given` with a space (Japanese); romanised as `Given Family`.
    FamilyGivenSpaced,
    /// `FamilyGiven` without a space (Chinese); romanised as `Given Family`.
    FamilyGivenJoined,
}

/// One spelling pair, with what the generator derives from it once.
#[derive(Debug, Clone)]
pub(crate) struct NameForm {
    pub(crate) native: &'static str,
    pub(crate) ascii: &'static str,
    /// Lowercase ASCII without apostrophes: what goes into emails and logins.
    pub(crate) local: String,
    /// Interned folded word: the same id means the engine sees the same word.
    pub(crate) native_token: u32,
    pub(crate) ascii_token: u32,
}

impl NameForm {
    pub(crate) fn text(&self, romanised: bool) -> &'static str {
        if romanised { self.ascii } else { self.native }
    }

    pub(crate) fn token(&self, romanised: bool) -> u32 {
        if romanised {
            self.ascii_token
        } else {
            self.native_token
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Locale {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) name: &'static str,
    /// Relative share of people, out of the sum over all locales.
    pub(crate) weight: u32,
    pub(crate) order: Order,
    /// Probability that a source directory shows the native spelling rather than the
    /// romanised one (1.0 for Latin-script locales, where the two often coincide).
    pub(crate) native_display: f64,
    /// Probability of a second family name (Spanish and Portuguese usage).
    pub(crate) double_family: f64,
    pub(crate) male: Vec<NameForm>,
    pub(crate) female: Vec<NameForm>,
    /// `(masculine, feminine)`; both the same where the language does not inflect.
    pub(crate) family: Vec<(NameForm, NameForm)>,
    /// Personal mail providers people of this locale use.
    pub(crate) personal_domains: &'static [&'static str],
}

impl Locale {
    pub(crate) fn given(&self, female: bool) -> &[NameForm] {
        if female { &self.female } else { &self.male }
    }

    pub(crate) fn family(&self, index: u8, female: bool) -> &NameForm {
        let (m, f) = &self.family[index as usize];
        if female { f } else { m }
    }
}

pub(crate) struct Tables {
    pub(crate) locales: Vec<Locale>,
    /// Cumulative weights, for drawing a locale with one random number.
    pub(crate) cumulative: Vec<u32>,
    pub(crate) total_weight: u32,
    /// Number of distinct folded words, for tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) words: usize,
}

/// Token ids start at 1 (0 marks an empty slot in a packed name key) and stay below 2^15
/// so two of them fit in one joined-name token.
pub(crate) const TOKEN_LIMIT: u32 = 1 << 15;

pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(build)
}

struct RawLocale {
    name: &'static str,
    weight: u32,
    order: Order,
    native_display: f64,
    double_family: f64,
    male: &'static str,
    female: &'static str,
    family: &'static str,
    personal_domains: &'static [&'static str],
}

fn build() -> Tables {
    let mut interner: HashMap<String, u32> = HashMap::new();
    let mut intern = |word: &str| -> u32 {
        let folded = fold_compatible(word).into_owned();
        let next = interner.len() as u32 + 1;
        *interner.entry(folded).or_insert(next)
    };
    let mut form = |entry: &'static str| -> NameForm {
        let (native, ascii) = entry.split_once('|').unwrap_or((entry, entry));
        let local: String = ascii
            .chars()
            .filter(|c| *c != '\'')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        debug_assert!(local.is_ascii() && !local.is_empty(), "{entry}");
        NameForm {
            native,
            ascii,
            local,
            native_token: intern(native),
            ascii_token: intern(ascii),
        }
    };
    let mut locales = Vec::new();
    for raw in RAW {
        let male = raw.male.split_whitespace().map(&mut form).collect();
        let female = raw.female.split_whitespace().map(&mut form).collect();
        let family = raw
            .family
            .split_whitespace()
            .map(|entry| match entry.split_once('/') {
                Some((m, f)) => (form(m), form(f)),
                None => {
                    let m = form(entry);
                    (m.clone(), m)
                }
            })
            .collect();
        locales.push(Locale {
            name: raw.name,
            weight: raw.weight,
            order: raw.order,
            native_display: raw.native_display,
            double_family: raw.double_family,
            male,
            female,
            family,
            personal_domains: raw.personal_domains,
        });
    }
    let words = interner.len();
    assert!((words as u32) < TOKEN_LIMIT);
    let mut cumulative = Vec::with_capacity(locales.len());
    let mut total = 0;
    for locale in &locales {
        total += locale.weight;
        cumulative.push(total);
    }
    Tables {
        locales,
        cumulative,
        total_weight: total,
        words,
    }
}

const WESTERN_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
];

const RAW: &[RawLocale] = &[
    RawLocale {
        name: "english",
        weight: 28,
        order: Order::GivenFamily,
        native_display: 1.0,
        double_family: 0.0,
        male: "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel \
               Matthew Anthony Mark Paul Steven Andrew Kenneth George",
        female: "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty \
                 Margaret Sandra Ashley Emily Donna Michelle Emma",
        family: "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson White \
                 Harris Martin Thompson Robinson Clark Lewis Walker Hall Allen Young King Wright Scott Green \
                 Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner \
                 O'Brien|OBrien O'Connor|OConnor",
        personal_domains: WESTERN_MAIL,
    },
    RawLocale {
        name: "spanish-portuguese",
        weight: 10,
        order: Order::GivenFamily,
        native_display: 0.95,
        double_family: 0.5,
        male: "José|Jose Juan Antonio Manuel Francisco Javier Miguel Ángel|Angel Rafael Pedro Alejandro \
               Fernando Jorge Luis João|Joao Gonçalo|Goncalo Sebastião|Sebastiao André|Andre Rodrigo Tomás|Tomas",
        female: "María|Maria Carmen Ana Lucía|Lucia Isabel Laura Elena Marta Sofía|Sofia Paula Cristina Raquel \
                 Beatriz Pilar Inês|Ines Conceição|Conceicao Margarida Leonor Mariana Begoña|Begona",
        family: "García|Garcia Fernández|Fernandez González|Gonzalez Rodríguez|Rodriguez López|Lopez \
                 Martínez|Martinez Sánchez|Sanchez Pérez|Perez Gómez|Gomez Martín|Martin Jiménez|Jimenez Ruiz \
                 Hernández|Hernandez Díaz|Diaz Moreno Muñoz|Munoz Álvarez|Alvarez Romero Alonso \
                 Gutiérrez|Gutierrez Navarro Torres Domínguez|Dominguez Vázquez|Vazquez Ramos Silva Santos \
                 Ferreira Pereira Oliveira Costa Rodrigues Gonçalves|Goncalves Sousa Carvalho Araújo|Araujo \
                 Magalhães|Magalhaes Simões|Simoes Castro Peña|Pena Ibáñez|Ibanez",
        personal_domains: &[
            "gmail.com",
            "hotmail.es",
            "yahoo.es",
            "sapo.pt",
            "outlook.com",
        ],
    },
    RawLocale {
        name: "french",
        weight: 7,
        order: Order::GivenFamily,
        native_display: 0.95,
        double_family: 0.0,
        male: "Jean Pierre Michel Philippe Alain Nicolas François|Francois Éric|Eric Stéphane|Stephane \
               Frédéric|Frederic Thierry Jérôme|Jerome Laurent Benoît|Benoit Gaël|Gael Loïc|Loic Hervé|Herve \
               Olivier Sébastien|Sebastien Jean-Pierre",
        female: "Françoise|Francoise Marie Nathalie Isabelle Sylvie Catherine Valérie|Valerie Sandrine \
                 Céline|Celine Hélène|Helene Aurélie|Aurelie Élodie|Elodie Chloé|Chloe Amélie|Amelie Mathilde \
                 Léa|Lea Noémie|Noemie Manon Clémence|Clemence Marie-Claire",
        family: "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent \
                 Lefèvre|Lefevre Lefebvre Fontaine Rousseau Vincent Chevalier Mercier Blanc Guérin|Guerin Boyer \
                 Faure André|Andre Gauthier Girard Bonnet Dupont Lambert François|Francois Rivière|Riviere \
                 Lemaître|Lemaitre Mathieu Clément|Clement Gérard|Gerard Perrin Roussel Noël|Noel \
                 Bérubé|Berube Lécuyer|Lecuyer",
        personal_domains: &[
            "gmail.com",
            "orange.fr",
            "free.fr",
            "laposte.net",
            "hotmail.fr",
        ],
    },
    RawLocale {
        name: "german",
        weight: 9,
        order: Order::GivenFamily,
        native_display: 0.95,
        double_family: 0.0,
        male: "Jürgen|Juergen Klaus Wolfgang Günter|Guenter Hans Uwe Dieter Stefan Jörg|Joerg Ralf Andreas \
               Matthias Tobias Lukas Jonas Björn|Bjoern Maximilian Felix Sören|Soeren Kai",
        female: "Sabine Ursula Monika Petra Renate Karin Brigitte Susanne Leonie Lena Katharina Anja Birgit \
                 Heike Dörte|Doerte Johanna Gudrun Hannelore Frauke Jördis|Joerdis",
        family: "Müller|Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann \
                 Schäfer|Schaefer Koch Bauer Richter Klein Wolf Schröder|Schroeder Neumann Schwarz Zimmermann \
                 Braun Krüger|Krueger Hartmann Lange Werner Krause Lehmann Köhler|Koehler Herrmann \
                 König|Koenig Weiß|Weiss Strauß|Strauss Groß|Gross Voß|Voss Nußbaum|Nussbaum Jäger|Jaeger \
                 Böhm|Boehm Fuchs Vogel Kühn|Kuehn",
        personal_domains: &["gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de"],
    },
    RawLocale {
        name: "polish",
        weight: 5,
        order: Order::GivenFamily,
        native_display: 0.95,
        double_family: 0.0,
        male: "Łukasz|Lukasz Krzysztof Piotr Tomasz Paweł|Pawel Michał|Michal Marcin Grzegorz Jakub Wojciech \
               Mateusz Rafał|Rafal Andrzej Marek Kamil Bartłomiej|Bartlomiej Przemysław|Przemyslaw Zbigniew \
               Jarosław|Jaroslaw Sławomir|Slawomir",
        female: "Małgorzata|Malgorzata Agnieszka Katarzyna Magdalena Joanna Ewa Barbara Dorota Aleksandra \
                 Monika Zofia Beata Elżbieta|Elzbieta Jolanta Urszula Danuta Grażyna|Grazyna Halina \
                 Wiesława|Wieslawa Żaneta|Zaneta",
        family: "Wójcik|Wojcik Nowak Kowalski/Kowalska Wiśniewski|Wisniewski/Wiśniewska|Wisniewska Kowalczyk \
                 Kamiński|Kaminski/Kamińska|Kaminska Lewandowski/Lewandowska Zieliński|Zielinski/Zielińska|Zielinska \
                 Szymański|Szymanski/Szymańska|Szymanska Woźniak|Wozniak Dąbrowski|Dabrowski/Dąbrowska|Dabrowska \
                 Kozłowski|Kozlowski/Kozłowska|Kozlowska Jankowski/Jankowska Mazur Kwiatkowski/Kwiatkowska \
                 Krawczyk Piotrowski/Piotrowska Grabowski/Grabowska Nowakowski/Nowakowska \
                 Pawłowski|Pawlowski/Pawłowska|Pawlowska Michalski/Michalska Adamczyk Dudek Zając|Zajac \
                 Wieczorek Jabłoński|Jablonski/Jabłońska|Jablonska Król|Krol Majewski/Majewska \
                 Olszewski/Olszewska Jaworski/Jaworska Wróbel|Wrobel Malinowski/Malinowska Pawlak \
                 Witkowski/Witkowska Walczak Stępień|Stepien Górski|Gorski/Górska|Gorska Rutkowski/Rutkowska \
                 Michalak Sikora Ostrowski/Ostrowska Baran",
        personal_domains: &["wp.pl", "onet.pl", "interia.pl", "gmail.com", "o2.pl"],
    },
    RawLocale {
        name: "turkish",
        weight: 4,
        order: Order::GivenFamily,
        native_display: 0.9,
        double_family: 0.0,
        male: "İbrahim|Ibrahim Mehmet Mustafa Ahmet Ali Hüseyin|Huseyin Hasan İsmail|Ismail Osman Yusuf Murat \
               Ömer|Omer Ramazan Halil Süleyman|Suleyman Mahmut Recep Gökhan|Gokhan Şükrü|Sukru Burak",
        female: "Fatma Ayşe|Ayse Emine Hatice Zeynep Elif Meryem Şerife|Serife Zehra Hanife Merve Özlem|Ozlem \
                 Gülşen|Gulsen Işıl|Isil Ebru Tuğba|Tugba Çiğdem|Cigdem Dilek Sibel Şule|Sule",
        family: "Yılmaz|Yilmaz Kaya Demir Şahin|Sahin Çelik|Celik Yıldız|Yildiz Yıldırım|Yildirim \
                 Öztürk|Ozturk Aydın|Aydin Özdemir|Ozdemir Arslan Doğan|Dogan Kılıç|Kilic Aslan Çetin|Cetin \
                 Kara Koç|Koc Kurt Özkan|Ozkan Şimşek|Simsek Polat Özcan|Ozcan Korkmaz Karataş|Karatas \
                 Işık|Isik Erdoğan|Erdogan Güneş|Gunes Aksoy Bulut Tekin Ünal|Unal Uçar|Ucar Keskin \
                 Güler|Guler Taş|Tas Acar Aktaş|Aktas Çakır|Cakir Bozkurt Sarı|Sari Türk|Turk",
        personal_domains: &["gmail.com", "hotmail.com", "yandex.com.tr", "outlook.com"],
    },
    RawLocale {
        name: "nordic",
        weight: 4,
        order: Order::GivenFamily,
        native_display: 0.95,
        double_family: 0.0,
        male: "Øyvind|Oyvind Lars Anders Erik Björn|Bjorn Per Nils Sven Karl Magnus Ola Knut Håkan|Hakan \
               Søren|Soren Jørgen|Jorgen Mads Rasmus Ásgeir|Asgeir Sigurður|Sigurdur Jukka",
        female: "Åsa|Asa Sigrid Ingrid Astrid Kari Liv Solveig Ragnhild Birgitta Maja Elin Linnéa|Linnea Sofie \
                 Freja Mette Þóra|Thora Guðrún|Gudrun Kristín|Kristin Aino Päivi|Paivi",
        family: "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Jensen Johansson Andersson Karlsson \
                 Nilsson Eriksson Larsson Olsson Persson Svensson Lindström|Lindstrom Åberg|Aberg \
                 Sjöberg|Sjoberg Lindqvist Bergström|Bergstrom Ødegård|Odegard Sæther|Saether \
                 Bjørnstad|Bjornstad Håland|Haland Strøm|Strom Møller|Moller Sørensen|Sorensen \
                 Østergaard|Ostergaard Jónsson|Jonsson/Jónsdóttir|Jonsdottir \
                 Guðmundsson|Gudmundsson/Guðmundsdóttir|Gudmundsdottir Virtanen Korhonen Mäkinen|Makinen \
                 Järvinen|Jarvinen Nieminen Lehtonen Halvorsen Berg",
        personal_domains: &[
            "gmail.com",
            "hotmail.com",
            "outlook.com",
            "live.se",
            "online.no",
        ],
    },
    RawLocale {
        name: "greek",
        weight: 3,
        order: Order::GivenFamily,
        native_display: 0.6,
        double_family: 0.0,
        male: "Γιώργος|Giorgos Δημήτρης|Dimitris Κωνσταντίνος|Konstantinos Γιάννης|Giannis Νίκος|Nikos \
               Παναγιώτης|Panagiotis Βασίλειος|Vasileios Χρήστος|Christos Αθανάσιος|Athanasios \
               Μιχάλης|Michalis Ευάγγελος|Evangelos Σπύρος|Spyros Αντώνης|Antonis Ανδρέας|Andreas \
               Στέλιος|Stelios Θανάσης|Thanasis Πέτρος|Petros Άγγελος|Angelos Οδυσσέας|Odysseas \
               Λευτέρης|Lefteris",
        female: "Μαρία|Maria Ελένη|Eleni Αικατερίνη|Aikaterini Βασιλική|Vasiliki Σοφία|Sofia \
                 Αγγελική|Angeliki Γεωργία|Georgia Δήμητρα|Dimitra Κωνσταντίνα|Konstantina \
                 Ευαγγελία|Evangelia Ιωάννα|Ioanna Παρασκευή|Paraskevi Χριστίνα|Christina Άννα|Anna \
                 Ειρήνη|Eirini Δέσποινα|Despoina Αναστασία|Anastasia Ζωή|Zoi Θεοδώρα|Theodora Φωτεινή|Foteini",
        family: "Παπαδόπουλος|Papadopoulos/Παπαδοπούλου|Papadopoulou Γεωργίου|Georgiou Οικονόμου|Oikonomou \
                 Παπαγεωργίου|Papageorgiou Βασιλείου|Vasileiou Νικολάου|Nikolaou Κωνσταντίνου|Konstantinou \
                 Ιωάννου|Ioannou Δημητρίου|Dimitriou Αθανασίου|Athanasiou Χριστοδούλου|Christodoulou \
                 Αντωνίου|Antoniou Παπανικολάου|Papanikolaou Αλεξίου|Alexiou Ευαγγέλου|Evangelou \
                 Αναγνώστου|Anagnostou Ζαχαρίου|Zachariou Σωτηρίου|Sotiriou \
                 Παπαδάκης|Papadakis/Παπαδάκη|Papadaki Παππάς|Pappas/Παππά|Pappa Μακρής|Makris/Μακρή|Makri \
                 Καραγιάννης|Karagiannis/Καραγιάννη|Karagianni Μιχαηλίδης|Michailidis/Μιχαηλίδου|Michailidou \
                 Σταθόπουλος|Stathopoulos/Σταθοπούλου|Stathopoulou \
                 Λαμπρόπουλος|Lampropoulos/Λαμπροπούλου|Lampropoulou \
                 Πετρόπουλος|Petropoulos/Πετροπούλου|Petropoulou Κυριακίδης|Kyriakidis/Κυριακίδου|Kyriakidou \
                 Τσακίρης|Tsakiris/Τσακίρη|Tsakiri Μαυρίδης|Mavridis/Μαυρίδου|Mavridou \
                 Θεοδωρίδης|Theodoridis/Θεοδωρίδου|Theodoridou Χατζής|Chatzis/Χατζή|Chatzi \
                 Ραφαηλίδης|Rafailidis/Ραφαηλίδου|Rafailidou Σαββίδης|Savvidis/Σαββίδου|Savvidou \
                 Σπανός|Spanos/Σπανού|Spanou Φραγκιαδάκης|Fragkiadakis/Φραγκιαδάκη|Fragkiadaki \
                 Δούκας|Doukas/Δούκα|Douka Λιάπης|Liapis/Λιάπη|Liapi Κουτσός|Koutsos/Κουτσού|Koutsou \
                 Μαργαρίτης|Margaritis/Μαργαρίτη|Margariti Ξενάκης|Xenakis/Ξενάκη|Xenaki",
        personal_domains: &["gmail.com", "yahoo.gr", "hotmail.com", "otenet.gr"],
    },
    RawLocale {
        name: "cyrillic",
        weight: 6,
        order: Order::GivenFamily,
        native_display: 0.7,
        double_family: 0.0,
        male: "Дмитрий|Dmitry Александр|Alexander Сергей|Sergey Андрей|Andrey Алексей|Alexey Максим|Maxim \
               Евгений|Evgeny Иван|Ivan Михаил|Mikhail Николай|Nikolay Владимир|Vladimir Павел|Pavel \
               Артём|Artyom Олег|Oleg Юрий|Yury Игорь|Igor Роман|Roman Виктор|Viktor Тарас|Taras Богдан|Bohdan",
        female: "Анна|Anna Мария|Maria Елена|Elena Ольга|Olga Наталья|Natalya Екатерина|Ekaterina \
                 Татьяна|Tatiana Ирина|Irina Светлана|Svetlana Юлия|Yulia Анастасия|Anastasia Ксения|Ksenia \
                 Дарья|Darya Людмила|Lyudmila Галина|Galina Оксана|Oksana Виктория|Viktoria Алёна|Alyona \
                 Софья|Sofya Надежда|Nadezhda",
        family: "Иванов|Ivanov/Иванова|Ivanova Смирнов|Smirnov/Смирнова|Smirnova Кузнецов|Kuznetsov/Кузнецова|Kuznetsova \
                 Попов|Popov/Попова|Popova Васильев|Vasiliev/Васильева|Vasilieva Петров|Petrov/Петрова|Petrova \
                 Соколов|Sokolov/Соколова|Sokolova Михайлов|Mikhailov/Михайлова|Mikhailova \
                 Новиков|Novikov/Новикова|Novikova Фёдоров|Fedorov/Фёдорова|Fedorova Морозов|Morozov/Морозова|Morozova \
                 Волков|Volkov/Волкова|Volkova Алексеев|Alekseev/Алексеева|Alekseeva Лебедев|Lebedev/Лебедева|Lebedeva \
                 Семёнов|Semenov/Семёнова|Semenova Егоров|Egorov/Егорова|Egorova Павлов|Pavlov/Павлова|Pavlova \
                 Козлов|Kozlov/Козлова|Kozlova Степанов|Stepanov/Степанова|Stepanova Николаев|Nikolaev/Николаева|Nikolaeva \
                 Орлов|Orlov/Орлова|Orlova Андреев|Andreev/Андреева|Andreeva Макаров|Makarov/Макарова|Makarova \
                 Никитин|Nikitin/Никитина|Nikitina Захаров|Zakharov/Захарова|Zakharova Зайцев|Zaitsev/Зайцева|Zaitseva \
                 Соловьёв|Solovyov/Соловьёва|Solovyova Борисов|Borisov/Борисова|Borisova \
                 Яковлев|Yakovlev/Яковлева|Yakovleva Григорьев|Grigoriev/Григорьева|Grigorieva \
                 Романов|Romanov/Романова|Romanova Воробьёв|Vorobyov/Воробьёва|Vorobyova Сидоров|Sidorov/Сидорова|Sidorova \
                 Белов|Belov/Белова|Belova Шевченко|Shevchenko Коваленко|Kovalenko Бондаренко|Bondarenko \
                 Ткаченко|Tkachenko Кравченко|Kravchenko Мельник|Melnyk",
        personal_domains: &["mail.ru", "yandex.ru", "gmail.com", "ukr.net", "rambler.ru"],
    },
    RawLocale {
        name: "chinese",
        weight: 9,
        order: Order::FamilyGivenJoined,
        native_display: 0.7,
        double_family: 0.0,
        male: "小明|Xiaoming 伟|Wei 强|Qiang 磊|Lei 军|Jun 洋|Yang 勇|Yong 杰|Jie 涛|Tao 明|Ming 超|Chao \
               浩然|Haoran 子轩|Zixuan 宇航|Yuhang 建国|Jianguo 志强|Zhiqiang 俊杰|Junjie 文博|Wenbo 嘉豪|Jiahao \
               一鸣|Yiming",
        female: "芳|Fang 娜|Na 敏|Min 静|Jing 丽|Li 艳|Yan 秀英|Xiuying 桂英|Guiying 婷|Ting 雪|Xue 慧|Hui \
                 玲|Ling 欣怡|Xinyi 梓涵|Zihan 雨桐|Yutong 思雨|Siyu 佳怡|Jiayi 晓燕|Xiaoyan 美玲|Meiling 丹|Dan",
        family: "王|Wang 李|Li 张|Zhang 刘|Liu 陈|Chen 杨|Yang 黄|Huang 赵|Zhao 吴|Wu 周|Zhou 徐|Xu 孙|Sun \
                 马|Ma 朱|Zhu 胡|Hu 郭|Guo 何|He 高|Gao 林|Lin 罗|Luo 郑|Zheng 梁|Liang 谢|Xie 宋|Song 唐|Tang \
                 许|Xu 韩|Han 冯|Feng 邓|Deng 曹|Cao 彭|Peng 曾|Zeng 肖|Xiao 田|Tian 董|Dong 袁|Yuan 潘|Pan \
                 蒋|Jiang 蔡|Cai 余|Yu 杜|Du",
        personal_domains: &["qq.com", "163.com", "126.com", "sina.com", "gmail.com"],
    },
    RawLocale {
        name: "japanese",
        weight: 4,
        order: Order::FamilyGivenSpaced,
        native_display: 0.7,
        double_family: 0.0,
        male: "太郎|Taro 翔太|Shota 大輔|Daisuke 健太|Kenta 拓也|Takuya 直樹|Naoki 和也|Kazuya 誠|Makoto \
               浩|Hiroshi 隆|Takashi 健一|Kenichi 雄一|Yuichi 亮|Ryo 蓮|Ren 大翔|Hiroto 悠真|Yuma 陽翔|Haruto \
               湊|Minato 蒼|Aoi 樹|Itsuki",
        female: "花子|Hanako 陽子|Yoko 恵子|Keiko 由美|Yumi 美咲|Misaki さくら|Sakura 愛|Ai 裕子|Yuko \
                 直美|Naomi 智子|Tomoko 久美子|Kumiko 真由美|Mayumi 結衣|Yui 陽菜|Hina 葵|Aoi 美羽|Miu 凛|Rin \
                 結菜|Yuna 芽依|Mei 千尋|Chihiro",
        family: "佐藤|Sato 鈴木|Suzuki 高橋|Takahashi 田中|Tanaka 伊藤|Ito 渡辺|Watanabe 山本|Yamamoto \
                 中村|Nakamura 小林|Kobayashi 加藤|Kato 吉田|Yoshida 山田|Yamada 佐々木|Sasaki 山口|Yamaguchi \
                 松本|Matsumoto 井上|Inoue 木村|Kimura 林|Hayashi 斎藤|Saito 清水|Shimizu 山崎|Yamazaki 森|Mori \
                 阿部|Abe 池田|Ikeda 橋本|Hashimoto 山下|Yamashita 石川|Ishikawa 中島|Nakajima 前田|Maeda \
                 藤田|Fujita 小川|Ogawa 後藤|Goto 岡田|Okada 長谷川|Hasegawa 村上|Murakami 近藤|Kondo 石井|Ishii \
                 坂本|Sakamoto 遠藤|Endo 青木|Aoki",
        personal_domains: &["yahoo.co.jp", "gmail.com", "docomo.ne.jp", "icloud.com"],
    },
    RawLocale {
        name: "arabic",
        weight: 4,
        order: Order::GivenFamily,
        native_display: 0.4,
        double_family: 0.0,
        male: "محمد|Mohammed أحمد|Ahmed علي|Ali عمر|Omar خالد|Khaled يوسف|Youssef إبراهيم|Ibrahim حسن|Hassan \
               حسين|Hussein عبدالله|Abdullah مصطفى|Mustafa طارق|Tariq سعيد|Saeed فيصل|Faisal كريم|Karim \
               ياسر|Yasser ماجد|Majed سامي|Sami نبيل|Nabil زياد|Ziad",
        female: "فاطمة|Fatima عائشة|Aisha مريم|Maryam زينب|Zainab نور|Nour ليلى|Layla سارة|Sara هدى|Huda \
                 رنا|Rana دينا|Dina ياسمين|Yasmin سلمى|Salma أمل|Amal هالة|Hala لينا|Lina ريم|Reem منى|Mona \
                 نادية|Nadia سميرة|Samira رغد|Raghad",
        family: "العلي|Al-Ali الحسن|Al-Hassan المصري|Al-Masri الشامي|Al-Shami حداد|Haddad خوري|Khoury نصر|Nasr \
                 سليمان|Suleiman عبدالرحمن|Abdelrahman منصور|Mansour يونس|Younes صالح|Saleh عثمان|Othman \
                 الزهراني|Al-Zahrani القحطاني|Al-Qahtani الغامدي|Al-Ghamdi العتيبي|Al-Otaibi الدوسري|Al-Dosari \
                 الحربي|Al-Harbi الشمري|Al-Shammari عيسى|Issa موسى|Moussa حمدان|Hamdan جابر|Jaber رحمن|Rahman \
                 كمال|Kamal فرح|Farah بكر|Bakr سعد|Saad نجار|Najjar عطية|Attia قاسم|Qasim بدر|Badr هاشم|Hashem \
                 طه|Taha عوض|Awad زيدان|Zidan شريف|Sharif العمري|Al-Omari التميمي|Al-Tamimi",
        personal_domains: &["gmail.com", "hotmail.com", "yahoo.com", "outlook.sa"],
    },
    RawLocale {
        name: "indian",
        weight: 7,
        order: Order::GivenFamily,
        native_display: 1.0,
        double_family: 0.0,
        male: "Rahul Amit Vikram Arjun Rohan Sanjay Rajesh Suresh Anil Deepak Aditya Karthik Pranav Nikhil \
               Manoj Vivek Harish Srinivas Venkatesh Aarav",
        female: "Priya Anjali Deepika Kavya Lakshmi Sunita Pooja Neha Divya Shreya Ananya Meera Aishwarya Swati \
                 Nandini Radhika Sneha Ritu Shalini Aditi",
        family: "Sharma Patel Singh Kumar Gupta Reddy Iyer Nair Rao Joshi Mehta Shah Desai Kapoor Malhotra \
                 Agarwal Banerjee Chatterjee Mukherjee Das Bose Pillai Menon Krishnan Subramanian Venkataraman \
                 Chaudhary Verma Mishra Pandey Srivastava Bhat Kulkarni Deshpande Jain Naidu Chopra Sinha \
                 Saxena Thakur",
        personal_domains: &["gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_well_formed() {
        let t = tables();
        assert_eq!(t.locales.len(), 13);
        for locale in &t.locales {
            assert!(locale.male.len() >= 20, "{}", locale.name);
            assert!(locale.female.len() >= 20, "{}", locale.name);
            assert!(
                locale.family.len() >= 40,
                "{} has {}",
                locale.name,
                locale.family.len()
            );
            assert!(
                locale.male.len() < 255 && locale.female.len() < 255 && locale.family.len() < 255
            );
            let all = locale
                .male
                .iter()
                .chain(&locale.female)
                .chain(locale.family.iter().flat_map(|(m, f)| [m, f]));
            for form in all {
                assert!(form.ascii.is_ascii(), "{} / {}", form.native, form.ascii);
                assert!(!form.native.contains(char::is_whitespace));
                assert!(
                    form.local
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'-'),
                    "{}",
                    form.local
                );
                assert!(form.local.as_bytes()[0].is_ascii_lowercase());
                assert!(!form.local.ends_with(|c: char| c.is_ascii_digit()));
            }
        }
        assert!(t.words > 1000);
    }

    #[test]
    fn folding_merges_equivalent_spellings() {
        let t = tables();
        let german = t.locales.iter().find(|l| l.name == "german").unwrap();
        let weiss = german
            .family
            .iter()
            .map(|(m, _)| m)
            .find(|f| f.native == "Weiß")
            .unwrap();
        // fold_compatible("Weiß") == fold_compatible("Weiss"): the engine would see the same word in names.
        assert_eq!(weiss.native_token, weiss.ascii_token);
        let turkish = t.locales.iter().find(|l| l.name == "turkish").unwrap();
        let ibrahim = turkish.male.iter().find(|f| f.ascii == "Ibrahim").unwrap();
        assert_eq!(ibrahim.native_token, ibrahim.ascii_token);
        let polish = t.locales.iter().find(|l| l.name == "polish").unwrap();
        let lukasz = &polish.male[0];
        assert_ne!(lukasz.native_token, lukasz.ascii_token);
        assert_eq!(lukasz.local, "lukasz");
    }
}
